/**
 * The report as JUnit XML for CI pipelines, as kube-bench's --junit does: one test suite per
 * control, one test case per finding. fail is a <failure>, an unreadable item an <error>, a
 * skipped (not applicable) item and an unscored warning are <skipped> with the reason. Pure.
 */
import type { Report } from './model.js';

/** Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR; lone surrogates, U+FFFE/F). */
const INVALID = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes element content; characters XML cannot hold become U+FFFD, a CR survives as a reference. */
export function xmlText(text: string): string {
  return text.replace(INVALID, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** Escapes an attribute value: also quotes, and whitespace that attribute normalisation would flatten. */
export function xmlEscape(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

function attrs(pairs: Record<string, string | number>): string {
  return Object.entries(pairs)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

export function renderJunit(report: Report): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = report.controls.reduce((n, c) => n + c.findings.length, 0);
  const count = (s: string) => report.controls.reduce((n, c) => n + c.findings.filter((f) => f.status === s).length, 0);
  out.push(
    `<testsuites${attrs({ name: `k3s-hostprep ${report.command}`, tests: total, failures: count('fail'), errors: count('error'), skipped: count('skip') + count('warn') })}>`,
  );
  for (const c of report.controls) {
    const n = (s: string) => c.findings.filter((f) => f.status === s).length;
    const suite = c.cis ? `${c.cis} ${c.id}` : c.id;
    out.push(`  <testsuite${attrs({ name: suite, tests: c.findings.length, failures: n('fail'), errors: n('error'), skipped: n('skip') + n('warn') })}>`);
    // Every cis id in a test case name is the benchmark's: the property says which one.
    out.push(
      `    <properties><property${attrs({ name: 'title', value: c.title })}/><property${attrs({ name: 'remediation', value: c.remediation })}/><property${attrs({ name: 'scored', value: String(c.scored) })}/><property${attrs({ name: 'benchmark', value: report.benchmark?.name ?? '' })}/></properties>`,
    );
    for (const f of c.findings) {
      const cis = f.cis ?? c.cis;
      const head = `    <testcase${attrs({ classname: c.id, name: cis ? `${cis} ${f.item}` : f.item })}`;
      const detail = `expected: ${f.expected}\nactual: ${f.actual}${f.reason ? `\nreason: ${f.reason}` : ''}`;
      if (f.status === 'pass') {
        out.push(`${head}/>`);
        continue;
      }
      const element = f.status === 'fail' ? 'failure' : f.status === 'error' ? 'error' : 'skipped';
      const message = f.reason || `${f.status}: expected ${f.expected}, actual ${f.actual}`;
      const typeAttr: Record<string, string> = element === 'skipped' ? {} : { type: f.status };
      out.push(`${head}>`);
      out.push(`      <${element}${attrs({ message, ...typeAttr })}>${xmlText(`${detail}\nremediation: ${c.remediation}`)}</${element}>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
