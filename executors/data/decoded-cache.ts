import type { Planar } from './sample';

/** What a decoded-image cache holds and has done; a pool's is the sum of its threads'. */
export interface CacheStats {
  readonly limitBytes: number;
  /** Pixel bytes held now. */
  readonly bytes: number;
  /** The most pixel bytes ever held at once; never above `limitBytes`. */
  readonly peakBytes: number;
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  /** Images offered but not kept because each alone is larger than the whole limit. */
  readonly uncached: number;
}

/**
 * Decoded images by sample id, least recently used first out, bounded by their pixel bytes. A Map
 * iterates in insertion order, so deleting and re-inserting on every hit keeps the oldest first.
 */
export class DecodedCache {
  private readonly images = new Map<number, Planar>();
  private bytes = 0;
  private peakBytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private uncached = 0;

  constructor(private readonly limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) throw new Error(`a decoded-image cache needs a limit of 0 or more whole bytes, got ${limitBytes}`);
  }

  get(sample: number): Planar | undefined {
    const image = this.images.get(sample);
    if (!image) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.images.delete(sample);
    this.images.set(sample, image);
    return image;
  }

  /** Keeps `image` as the most recently used, evicting the least recently used until it fits. */
  put(sample: number, image: Planar): void {
    const size = image.data.byteLength;
    this.remove(sample);
    if (size > this.limitBytes) {
      this.uncached++;
      return;
    }
    for (const oldest of this.images.keys()) {
      if (this.bytes + size <= this.limitBytes) break;
      this.remove(oldest);
      this.evictions++;
    }
    this.images.set(sample, image);
    this.bytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.bytes);
  }

  stats(): CacheStats {
    const { limitBytes, bytes, peakBytes, hits, misses, evictions, uncached } = this;
    return { limitBytes, bytes, peakBytes, entries: this.images.size, hits, misses, evictions, uncached };
  }

  private remove(sample: number): void {
    const image = this.images.get(sample);
    if (!image) return;
    this.images.delete(sample);
    this.bytes -= image.data.byteLength;
  }
}
