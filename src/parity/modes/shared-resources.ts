/**
 * What several parity modes load once per evaluation and dispose when every mode is done: the
 * SavedModel's session, which the native-graph modes both run (each load took 3 to 5 s on ResNet50).
 */
export class SharedResources {
  private readonly entries = new Map<string, { value: Promise<unknown>; dispose: (value: never) => void }>();

  /** The resource under `key`, loaded by the first mode that asks for it. */
  get<T>(key: string, load: () => Promise<T>, dispose: (value: T) => void): Promise<T> {
    const existing = this.entries.get(key);
    if (existing) return existing.value as Promise<T>;
    const value = load();
    this.entries.set(key, { value, dispose: dispose as (value: never) => void });
    return value;
  }

  /** Disposes every resource that loaded (one that failed to load has nothing to dispose). */
  async disposeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) {
      const value = await entry.value.catch(() => undefined);
      if (value !== undefined) entry.dispose(value as never);
    }
  }
}
