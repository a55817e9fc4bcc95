/**
 * A generated file's text depends only on the configuration and a few other inputs (role, K3s
 * version, components disabled). watch verifies every cycle with the same configuration object,
 * so each text is kept per configuration object (a WeakMap: another configuration renders
 * afresh) and per key naming the other inputs; rendering YAML was half of a watch cycle.
 */
const cache = new WeakMap<object, Map<string, string>>();

export function rendered(config: object, key: string, render: () => string): string {
  let byKey = cache.get(config);
  if (!byKey) {
    byKey = new Map();
    cache.set(config, byKey);
  }
  let text = byKey.get(key);
  if (text === undefined) {
    if (byKey.size >= 64) byKey.clear();
    text = render();
    byKey.set(key, text);
  }
  return text;
}
