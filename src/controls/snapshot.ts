/**
 * What one run has read from the host and worked out from it, kept for the rest of the run: the
 * generated files' texts and K3s' configuration sources, which several controls need (the
 * network policy and the K3s flags both read K3s' configuration files), and which cost most of a
 * watch cycle to make again. A run's inputs (configuration, role, K3s version) never change
 * within it, so a value is named by what it is, not by hand-built keys of its inputs; and the
 * engine starts a new snapshot whenever the run changed the host, so nothing read before a
 * change is used after it. A watch cycle is a run: nothing is carried from one cycle to the next.
 */
export class Snapshot {
  private readonly values = new Map<string, unknown>();

  /** The value named `name` in this snapshot, made once. */
  get<T>(name: string, make: () => T): T {
    if (this.values.has(name)) return this.values.get(name) as T;
    const value = make();
    this.values.set(name, value);
    return value;
  }
}

/** The value from the context's snapshot, or made afresh when the caller has none (render). */
export function once<T>(ctx: { snapshot?: Snapshot }, name: string, make: () => T): T {
  return ctx.snapshot ? ctx.snapshot.get(name, make) : make();
}

/**
 * Values made from the run's inputs alone (the configuration, the role, the K3s version and the
 * benchmark), never from the host: the generated files' texts. They are the same in every run
 * with the same inputs, so a watch cycle takes them from the cycles before it instead of
 * rendering them again; a reloaded configuration is a new object, and so a new entry. Anything
 * read from the host stays in the run's Snapshot.
 */
const PURE = new WeakMap<object, Map<string, unknown>>();

export function pure<T>(
  ctx: { config: object; role?: string; k3s?: { version: { text: string } }; benchmark?: { name: string } },
  name: string,
  make: () => T,
): T {
  let values = PURE.get(ctx.config);
  if (!values) {
    values = new Map();
    PURE.set(ctx.config, values);
  }
  const key = `${name}\0${ctx.role ?? ''}\0${ctx.k3s?.version.text ?? ''}\0${ctx.benchmark?.name ?? ''}`;
  if (values.has(key)) return values.get(key) as T;
  const value = make();
  values.set(key, value);
  return value;
}
