import fc from 'fast-check';
import { DecodedCache } from '../../../executors/data/decoded-cache';
import type { Planar } from '../../../executors/data/sample';

function image(bytes: number): Planar {
  return { channels: 1, height: 1, width: bytes, data: new Uint8Array(bytes) };
}

describe('DecodedCache', () => {
  it('evicts the least recently used first, a hit counting as a use, and only as many as needed', () => {
    const cache = new DecodedCache(300);
    const [a, b, c] = [image(100), image(100), image(100)];
    cache.put(1, a);
    cache.put(2, b);
    cache.put(3, c);
    expect(cache.get(1)).toBe(a); // 2, 3, 1
    cache.put(4, image(100)); // 3, 1, 4
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(3)).toBe(c); // 1, 4, 3
    cache.put(5, image(150)); // 3, 5
    expect([cache.get(1), cache.get(4)]).toEqual([undefined, undefined]);
    expect(cache.get(3)).toBe(c);
    expect(cache.stats()).toEqual({ limitBytes: 300, bytes: 250, peakBytes: 300, entries: 2, hits: 3, misses: 3, evictions: 3, uncached: 0 });
  });

  it('does not keep an image larger than the whole limit, and keeps what it holds', () => {
    const cache = new DecodedCache(100);
    cache.put(1, image(60));
    cache.put(2, image(101));
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(1)).toBeDefined();
    expect(cache.stats()).toMatchObject({ bytes: 60, entries: 1, evictions: 0, uncached: 1 });
  });

  it('replaces an image put again under the same sample without counting an eviction', () => {
    const cache = new DecodedCache(100);
    cache.put(1, image(80));
    const again = image(90);
    cache.put(1, again);
    expect(cache.get(1)).toBe(again);
    expect(cache.stats()).toMatchObject({ bytes: 90, peakBytes: 90, entries: 1, evictions: 0 });
  });

  it('with a limit of 0 keeps nothing', () => {
    const cache = new DecodedCache(0);
    cache.put(1, image(1));
    expect(cache.get(1)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ bytes: 0, peakBytes: 0, entries: 0, misses: 1, uncached: 1 });
  });

  it('never holds more than its limit and agrees with a plain LRU model, whatever is put and got', () => {
    const operation = fc.oneof(
      fc.record({ put: fc.integer({ min: 0, max: 9 }), bytes: fc.integer({ min: 0, max: 120 }) }),
      fc.record({ get: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.array(operation, { maxLength: 60 }), (limit, operations) => {
        const cache = new DecodedCache(limit);
        const model = new LruModel(limit);
        for (const op of operations) {
          if ('get' in op) {
            expect(cache.get(op.get)?.data.byteLength).toBe(model.get(op.get));
          } else {
            cache.put(op.put, image(op.bytes));
            model.put(op.put, op.bytes);
          }
          const stats = cache.stats();
          expect(stats).toEqual(model.stats());
          expect(stats.peakBytes).toBeLessThanOrEqual(limit);
        }
      }),
    );
  });

  it('refuses a limit that is not a whole number of bytes', () => {
    expect(() => new DecodedCache(-1)).toThrow('0 or more whole bytes, got -1');
    expect(() => new DecodedCache(1.5)).toThrow('got 1.5');
  });
});

/** The same policy written the obvious way: samples and sizes, least recently used first. */
class LruModel {
  private order: [number, number][] = [];
  private counts = { peakBytes: 0, hits: 0, misses: 0, evictions: 0, uncached: 0 };

  constructor(private readonly limit: number) {}

  get(sample: number): number | undefined {
    const found = this.order.find(([s]) => s === sample);
    if (!found) {
      this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    this.order = [...this.order.filter(([s]) => s !== sample), found];
    return found[1];
  }

  put(sample: number, bytes: number): void {
    this.order = this.order.filter(([s]) => s !== sample);
    if (bytes > this.limit) {
      this.counts.uncached++;
      return;
    }
    while (this.bytes() + bytes > this.limit) {
      this.order.shift();
      this.counts.evictions++;
    }
    this.order.push([sample, bytes]);
    this.counts.peakBytes = Math.max(this.counts.peakBytes, this.bytes());
  }

  stats() {
    return { limitBytes: this.limit, bytes: this.bytes(), entries: this.order.length, ...this.counts };
  }

  private bytes(): number {
    return this.order.reduce((total, [, bytes]) => total + bytes, 0);
  }
}
