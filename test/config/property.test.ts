/**
 * Property tests over random configurations (fast-check): parsing never fails with anything but
 * a ConfigError, an accepted configuration never weakens one of the six kernel values, and a
 * sample of rejected ones run through the built command writes nothing.
 */
import test from 'ava';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { decodeConfig, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { KUBELET_SYSCTLS } from '../../src/k3s/kubelet-sysctls.js';
import { renderKubeletSysctl } from '../../src/controls/kernel-parameters.js';
import { renderAuditPolicy } from '../../src/controls/audit-policy.js';
import { ConfigError } from '../../src/errors.js';
import { parseSysctlConf } from '../../src/sysctl/conf.js';
import { applyEach } from '../helpers/bad-config-run.js';
import { configObject } from '../helpers/config-arbitrary.js';
import { isRoot } from '../helpers/sandbox.js';

const FILE = '/etc/k3s-hostprep/config.yaml';
const SEED = Number(process.env.K3S_HOSTPREP_PROPERTY_SEED ?? 20261127);

type Outcome = { accepted: Config } | { rejected: string[] };

function outcome(text: string): Outcome {
  try {
    return { accepted: parseConfig(text, FILE) };
  } catch (error) {
    if (error instanceof ConfigError) return { rejected: error.problems };
    throw error;
  }
}

/** What an accepted configuration must never do: weaken one of the six, or render a file that does not read back. */
function checkAccepted(config: Config): void {
  const assignments = parseSysctlConf(renderKubeletSysctl(config.sysctl), 'rendered');
  for (const [key, value] of KUBELET_SYSCTLS) {
    const mine = assignments.filter((a) => a.key === key);
    if (mine.length === 0 || mine.some((a) => Number(a.value) !== value)) throw new Error(`accepted config weakens ${key}: ${JSON.stringify(config.sysctl)}`);
  }
  renderAuditPolicy(config.audit.policy);
}

function checkRejected(problems: string[]): void {
  if (problems.length === 0) throw new Error('a ConfigError without a problem');
  const part = '("(?:[^"\\\\]|\\\\.)*"|[A-Za-z0-9_-]+)';
  const keyPath = new RegExp(`^${part}((\\.${part})|\\[\\d+\\])*: `);
  for (const p of problems) {
    const named = /^(\(top level\): |invalid YAML|not a text configuration|the configuration file is|\.\.\. and \d+ more)/.test(p) || keyPath.test(p);
    if (!named || /\[object Object\]/.test(p)) throw new Error(`a problem that names no key: ${p}`);
  }
}

test('random configuration objects: accepted and safe, or rejected with a ConfigError naming the key; never another exception', (t) => {
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(configObject, (object) => {
      const result = outcome(stringify(object));
      if ('accepted' in result) {
        accepted++;
        checkAccepted(result.accepted);
      } else {
        rejected++;
        checkRejected(result.rejected);
      }
    }),
    { numRuns: 2000, seed: SEED },
  );
  t.log(`${accepted} accepted, ${rejected} rejected`);
  t.true(accepted > 50 && rejected > 50, 'the generator reaches both sides');
});

test('random text and bytes, and single-character mutations of a valid file: never another exception', (t) => {
  const valid =
    'role: server\nsysctl:\n  net.ipv4.ip_forward: 1\naudit:\n  policy:\n    apiVersion: audit.k8s.io/v1\n    kind: Policy\n    rules:\n      - level: Metadata\n';
  const parseBytes = (bytes: Uint8Array) => {
    try {
      const config = parseConfig(decodeConfig(bytes, FILE), FILE);
      checkAccepted(config);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      checkRejected(error.problems);
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => parseBytes(bytes)),
    { numRuns: 1000, seed: SEED },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => parseBytes(Buffer.from(text, 'utf8'))),
    { numRuns: 1000, seed: SEED },
  );
  fc.assert(
    fc.property(fc.nat(valid.length - 1), fc.string({ minLength: 0, maxLength: 3, unit: 'binary-ascii' }), (at, insert) =>
      parseBytes(Buffer.from(valid.slice(0, at) + insert + valid.slice(at + 1), 'utf8')),
    ),
    { numRuns: 2000, seed: SEED },
  );
  t.pass();
});

(isRoot() ? test : test.skip)('a sample of rejected random configurations through the built command: exit 2, nothing written', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-prop-'));
  const files: string[] = [];
  for (const object of fc.sample(configObject, { numRuns: 400, seed: SEED })) {
    const text = stringify(object);
    if ('accepted' in outcome(text)) continue;
    const file = path.join(dir, `${files.length}.yaml`);
    fs.writeFileSync(file, text);
    files.push(file);
    if (files.length === 30) break;
  }
  t.is(files.length, 30);
  const result = await applyEach(files);
  for (const run of result.runs) {
    t.is(run.exitCode, 2, `${run.file}: ${run.stderr}`);
    t.true(run.stderr.startsWith(`k3s-hostprep: ${run.file}: `), run.stderr);
  }
  t.deepEqual(result.written, []);
  fs.rmSync(dir, { recursive: true, force: true });
});
