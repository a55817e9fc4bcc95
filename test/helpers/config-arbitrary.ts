/** fast-check arbitraries for configuration objects: mostly plausible, with wrong parts mixed in. */
import fc from 'fast-check';
import { KUBELET_SYSCTLS } from '../../src/k3s/kubelet-sysctls.js';

const junk = fc.anything({ maxDepth: 2, maxKeys: 3 });
const six = KUBELET_SYSCTLS.map(([k]) => k);
const sysctlKey = fc.oneof(
  fc.constantFrom(...six, 'net.ipv4.ip_forward', 'vm.swappiness', 'kernel/panic', 'kernel.keys/root_maxkeys', 'net.ipv4.conf.*.rp_filter'),
  fc.stringMatching(/^[a-z]{1,6}([./][a-z_]{1,6}){1,3}$/),
  fc.string({ maxLength: 12 }),
);
const sysctlValue = fc.oneof(
  fc.integer({ min: -5, max: 30_000_000 }),
  fc.constantFrom(0, 1, 10, 1000000, 25000000, '10', ' 1 ', 'ten', '1 2'),
  fc.string({ maxLength: 8 }),
  junk,
);
const stringList = fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), junk);
const rule = fc.record(
  {
    level: fc.oneof(fc.constantFrom('None', 'Metadata', 'Request', 'RequestResponse'), fc.string({ maxLength: 6 }), junk),
    users: stringList,
    verbs: stringList,
    namespaces: stringList,
    resources: fc.oneof(
      fc.array(fc.record({ group: fc.oneof(fc.string({ maxLength: 4 }), junk), resources: stringList }, { requiredKeys: [] }), { maxLength: 2 }),
      junk,
    ),
    omitStages: fc.oneof(fc.array(fc.constantFrom('RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic', 'Bogus'), { maxLength: 2 }), junk),
  },
  { requiredKeys: [] },
);
const policy = fc.record(
  {
    apiVersion: fc.oneof(fc.constant('audit.k8s.io/v1'), fc.constant('audit.k8s.io/v1beta1'), junk),
    kind: fc.oneof(fc.constant('Policy'), junk),
    rules: fc.oneof(fc.array(rule, { minLength: 0, maxLength: 3 }), junk),
    omitManagedFields: fc.oneof(fc.boolean(), junk),
    metadata: junk,
  },
  { requiredKeys: [] },
);
/** Mostly plausible configurations with a few wrong parts, plus the odd unknown key. */
export const configObject = fc
  .tuple(
    fc.record(
      {
        role: fc.oneof(fc.constantFrom('server', 'agent'), junk),
        sysctl: fc.oneof(fc.dictionary(sysctlKey, sysctlValue, { maxKeys: 4 }), junk),
        audit: fc.oneof(fc.record({ policy }, { requiredKeys: [] }), junk),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'rol', 'sysctls', 'toString')), junk, { maxKeys: 1 }),
  )
  .map(([known, extra]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(extra)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return Object.assign(out, known);
  });
