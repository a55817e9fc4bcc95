import test from 'ava';
import { CONTROLS } from '../../src/controls/index.js';
import { Snapshot, once } from '../../src/controls/snapshot.js';
import { run } from '../../src/engine.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

const K3S_CONFIG = '/etc/rancher/k3s/config.yaml';
const ROLE = { role: 'server' as const, source: 'test' };

/** A host that counts how often each file is read. */
class CountingHost extends TestHost {
  readonly reads = new Map<string, number>();
  override readText(logical: string): string | null {
    this.reads.set(logical, (this.reads.get(logical) ?? 0) + 1);
    return super.readText(logical);
  }
}

test('a value is made once per snapshot, and afresh without one', (t) => {
  const snapshot = new Snapshot();
  let made = 0;
  const make = () => ++made;
  t.is(snapshot.get('x', make), 1);
  t.is(snapshot.get('x', make), 1);
  t.is(snapshot.get('y', make), 2);
  t.is(new Snapshot().get('x', make), 3, 'another run makes its own');
  t.is(once({}, 'x', make), 4);
  t.is(once({}, 'x', make), 5, 'no snapshot: nothing kept');
});

test('a check reads K3s configuration once, though two controls judge it', async (t) => {
  const host = new CountingHost(COMPLIANT);
  host.write(K3S_CONFIG, 'disable: [traefik]\n');
  await run(context(host, { k3s: 'v1.28' }), { command: 'check', roleChoice: ROLE, facts: false, controls: CONTROLS });
  t.is(host.reads.get(K3S_CONFIG), 1);
});

test('nothing is carried from one run to the next: a changed K3s configuration changes the next verdict', async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host, { k3s: 'v1.28' });
  t.is((await run(ctx, { command: 'apply', roleChoice: ROLE, facts: false })).exitCode, 0);
  t.is((await run(ctx, { command: 'check', roleChoice: ROLE, facts: false })).exitCode, 0);
  // Disabling traefik in K3s' own configuration changes policy.yaml's text: the next run must see it.
  host.write(K3S_CONFIG, 'disable: [traefik]\n');
  const after = await run(ctx, { command: 'check', roleChoice: ROLE, facts: false });
  t.is(after.controls.find((c) => c.id === 'network-policy')?.status, 'fail');
});

test('apply reads again after it changed the host: its verification sees what it wrote', async (t) => {
  const host = new CountingHost(COMPLIANT);
  const report = await run(context(host, { k3s: 'v1.28' }), { command: 'apply', roleChoice: ROLE, facts: false });
  t.is(
    report.exitCode,
    0,
    JSON.stringify(
      report.controls.filter((c) => c.status !== 'pass'),
      null,
      1,
    ),
  );
  t.true(report.summary.changes > 0);
  t.true((host.reads.get('/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml') ?? 0) >= 1);
});
