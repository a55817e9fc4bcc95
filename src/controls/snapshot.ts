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
