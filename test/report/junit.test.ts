import test from 'ava';
import { renderJunit, xmlEscape, xmlText } from '../../src/report/junit.js';
import { sampleReport } from './fixtures.js';

/** Undoes the escaping, to show nothing is lost. */
function unescapeXml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

test('escaping: markup characters, quotes and whitespace survive a round trip; control characters are replaced', (t) => {
  const s = 'a < b && c > "d" \'e\'\n\tf\r';
  t.is(unescapeXml(xmlEscape(s)), s);
  t.notRegex(xmlEscape(s), /[<>"'\n\t]|&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  t.is(xmlText('x\u0001y\u001b\uFFFEz'), 'x\uFFFDy\uFFFD\uFFFDz');
  t.is(xmlText('emoji \u{1F600}'), 'emoji \u{1F600}', 'characters outside the BMP are kept');
  t.is(xmlText('a\nb'), 'a\nb', 'element text keeps newlines');
});

test('a report becomes one suite per control and one case per finding', (t) => {
  const xml = renderJunit(sampleReport());
  t.true(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="k3s-hostprep check" tests="5" failures="1" errors="1" skipped="2">'));
  t.regex(xml, /<testsuite name="4\.2\.6 kernel-parameters" tests="2" failures="1" errors="0" skipped="0">/);
  t.regex(xml, /<testcase classname="kernel-parameters" name="4\.2\.6 kernel\.panic"\/>/);
  t.regex(
    xml,
    /<testcase classname="kernel-parameters" name="4\.2\.6 vm\.overcommit_memory">\n {6}<failure message="invalid kernel flag: vm\/overcommit_memory, expected value: 1, actual value: 0" type="fail">expected: 1\nactual: 0\n/,
  );
  t.regex(
    xml,
    /<testcase classname="directories" name="1\.2\.19 \/var\/lib\/rancher\/k3s\/server\/logs">\n {6}<error message="EACCES: &lt;denied&gt; &quot;quoted&quot; &apos;single&apos; \uFFFD ctrl" type="error">/,
  );
  t.regex(xml, /<skipped message="applies to server nodes only">/);
  t.regex(xml, /<skipped message="unscored">/, 'an unscored warning does not fail the pipeline');
  t.regex(xml, /remediation: sysctl -p &lt;file&gt; &amp;&amp; echo "done" &amp; exit<\/failure>/);
  t.regex(xml, /<property name="title" value="Audit &quot;policy&quot;&#10;file"\/>/);
  // Nothing raw: every & starts an entity, no < outside tags.
  t.notRegex(xml, /&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  t.is((xml.match(/<testcase /g) ?? []).length, 5);
  t.is((xml.match(/<testsuite /g) ?? []).length, 4);
});
