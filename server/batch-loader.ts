/**
 * Collects the keys field resolvers ask for while one GraphQL response is resolved and fetches
 * them together: graphql-js resolves the same field of every item in a list before any I/O
 * completes, so the keys asked for before the next macrotask make one fetch for a whole page.
 * Nothing is kept after a batch, so a long-lived subscription never reads stale rows.
 */
export class BatchLoader<K, V> {
  private pending: Map<K, { resolve(value: V): void; reject(error: unknown): void }[]> | null = null;

  constructor(
    /** Values of the keys asked for; a key it leaves out gets `missing`. */
    private readonly fetch: (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly missing: V,
  ) {}

  load(key: K): Promise<V> {
    if (!this.pending) {
      this.pending = new Map();
      setImmediate(() => void this.dispatch());
    }
    const waiting = this.pending.get(key) ?? [];
    this.pending.set(key, waiting);
    return new Promise<V>((resolve, reject) => waiting.push({ resolve, reject }));
  }

  private async dispatch(): Promise<void> {
    const batch = this.pending!;
    this.pending = null;
    try {
      const values = await this.fetch([...batch.keys()]);
      for (const [key, waiting] of batch) for (const w of waiting) w.resolve(values.has(key) ? values.get(key)! : this.missing);
    } catch (error) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(error);
    }
  }
}
