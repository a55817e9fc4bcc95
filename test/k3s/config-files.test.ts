import test from 'ava';
import { k3sConfigPaths, laterReplacements, mergeK3sConfig, parseK3sConfigText, readK3sConfig, type K3sConfigFile } from '../../src/k3s/config-files.js';
import { TestHost } from '../helpers/test-host.js';
import { COMPLIANT } from '../helpers/sandbox.js';

function file(path: string, text: string): K3sConfigFile {
  const f = parseK3sConfigText(text, path);
  if ('message' in f) throw new Error(f.message);
  return f;
}

const values = (m: ReturnType<typeof mergeK3sConfig>, key: string) => m.get(key)?.items.map((i) => i.value);

test('a plain key replaces, key+ appends, scalars become flag text', (t) => {
  const merged = mergeK3sConfig([
    file('config.yaml', 'kube-apiserver-arg: [a=1, b=2]\nprotect-kernel-defaults: false\nnode-label: x=y\n'),
    file('50.yaml', 'kube-apiserver-arg+: [c=3]\nprotect-kernel-defaults: true\nnode-label+: z=w\n'),
  ]);
  t.deepEqual(values(merged, 'kube-apiserver-arg'), ['a=1', 'b=2', 'c=3']);
  t.deepEqual(
    merged.get('kube-apiserver-arg')!.items.map((i) => i.file),
    ['config.yaml', 'config.yaml', '50.yaml'],
  );
  t.deepEqual(values(merged, 'protect-kernel-defaults'), ['true']);
  t.deepEqual(values(merged, 'node-label'), ['x=y', 'z=w']);
  const wiped = mergeK3sConfig([file('a.yaml', 'kubelet-arg+: [x=1]\n'), file('b.yaml', 'kubelet-arg: [y=2]\n')]);
  t.deepEqual(values(wiped, 'kubelet-arg'), ['y=2']);
});

test('later files that set our keys without + are named; + and other keys are not', (t) => {
  const files = [
    file('/c/50-rancher.yaml', '{"kube-apiserver-arg": ["x=1"], "kubelet-arg": ["y=1"]}'),
    file('/c/90-k3s-hostprep.yaml', 'kubelet-arg+: [a]\nkube-apiserver-arg+: [b]\n'),
    file('/c/95-ok.yaml', 'kubelet-arg+: [c]\nnode-name: n\n'),
    file('/c/99-bad.yaml', 'kube-apiserver-arg: [d]\nprotect-kernel-defaults: false\n'),
  ];
  t.deepEqual(laterReplacements(files, '/c/90-k3s-hostprep.yaml', ['kubelet-arg', 'kube-apiserver-arg', 'protect-kernel-defaults']), [
    { file: '/c/99-bad.yaml', key: 'kube-apiserver-arg' },
    { file: '/c/99-bad.yaml', key: 'protect-kernel-defaults' },
  ]);
});

test('files are read in K3s order: config.yaml, then .yaml/.yml drop-ins by name; others ignored', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/rancher/k3s/config.yaml', 'a: 1\n');
  for (const name of ['90-x.yaml', '10-y.YML', '50-z.yml', 'README', '99-old.yaml.bak']) host.write(`/etc/rancher/k3s/config.yaml.d/${name}`, 'b: 2\n');
  host.write('/etc/rancher/k3s/config.yaml.d/70-dir.yaml/inner', '');
  t.deepEqual(k3sConfigPaths(host), [
    '/etc/rancher/k3s/config.yaml',
    '/etc/rancher/k3s/config.yaml.d/10-y.YML',
    '/etc/rancher/k3s/config.yaml.d/50-z.yml',
    '/etc/rancher/k3s/config.yaml.d/90-x.yaml',
  ]);
});

test('a file that does not parse is a problem naming it; the rest is still read', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/rancher/k3s/config.yaml', 'kubelet-arg: [\n');
  host.write('/etc/rancher/k3s/config.yaml.d/10-list.yaml', '- a\n- b\n');
  host.write('/etc/rancher/k3s/config.yaml.d/20-ok.yaml', 'node-name: n\n');
  const { files, problems } = readK3sConfig(host);
  t.deepEqual(
    files.map((f) => f.path),
    ['/etc/rancher/k3s/config.yaml.d/20-ok.yaml'],
  );
  t.deepEqual(
    problems.map((p) => p.path),
    ['/etc/rancher/k3s/config.yaml', '/etc/rancher/k3s/config.yaml.d/10-list.yaml'],
  );
  t.regex(problems[0]!.message, /invalid YAML/);
  t.regex(problems[1]!.message, /expected a mapping/);
});

test('a file holding a known text takes its known value without being parsed; any other text is parsed', (t) => {
  // The known text is not even valid YAML: only the value given for it can be what is read.
  const known = [{ text: 'kubelet-arg+: [\n', value: () => ({ 'kubelet-arg+': ['a=1'], 'protect-kernel-defaults': true }) }];
  t.deepEqual(parseK3sConfigText('kubelet-arg+: [\n', '/c/90.yaml', known), {
    path: '/c/90.yaml',
    entries: [
      { key: 'kubelet-arg', append: true, value: ['a=1'] },
      { key: 'protect-kernel-defaults', append: false, value: true },
    ],
  });
  const other = parseK3sConfigText('kubelet-arg+: [\n\n', '/c/90.yaml', known);
  t.true('message' in other && /invalid YAML/.test(other.message));
  const host = new TestHost(COMPLIANT);
  host.write('/etc/rancher/k3s/config.yaml', 'kubelet-arg+: [\n');
  host.write('/etc/rancher/k3s/config.yaml.d/10-x.yaml', 'node-name: n\n');
  const { files, problems } = readK3sConfig(host, undefined, known);
  t.deepEqual(problems, []);
  t.deepEqual(
    files.map((f) => f.entries.map((e) => e.key)),
    [['kubelet-arg', 'protect-kernel-defaults'], ['node-name']],
  );
});
