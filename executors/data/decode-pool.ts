/**
 * Threads that read, decode and render a dataset's samples on demand (decode-worker.ts). Each sample
 * goes to thread `sample % threads`, so it is always decoded, and cached, by the same one: each
 * thread's cache holds its share of `cacheBytes` and together they never hold more. Batches may
 * overlap (a loader prefetches a few ahead); each thread answers its parts in the order sent.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../worker-thread';
import type { DatasetLimits } from './dataset-limits';
import type { DecodeItem, DecodeReply, DecodeRequest, DecodeWorkerData, RenderTask } from './decode-protocol';
import type { CacheStats } from './decoded-cache';
import type { ImageShape, Normalization } from './sample';

export interface DecodePoolOptions {
  readonly threads: number;
  /** Decoded-image cache for the whole pool, in pixel bytes. */
  readonly cacheBytes: number;
  readonly limits: DatasetLimits;
  /** Buffers that `shared` sample refs index. */
  readonly shared?: readonly SharedArrayBuffer[];
}

export interface RenderedBatch {
  /** The kept items' images, in item order, each `out.channels × out.height × out.width`. */
  readonly images: Float32Array;
  /** Positions, in the items rendered, of the corrupt ones left out; ascending. */
  readonly skipped: number[];
}

type Rendered = Extract<DecodeReply, { type: 'rendered' }>;
type StatsReply = Extract<DecodeReply, { type: 'stats' }>;

interface Pending {
  resolve(reply: Rendered | StatsReply): void;
  reject(error: Error): void;
}

class DecodeThread {
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private started = false;
  private closing = false;

  constructor(
    private readonly worker: Worker,
    label: string,
    onFailure: (error: Error) => void,
  ) {
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    const fail = (error: Error) => {
      failReady(error);
      this.rejectAll(error);
      onFailure(error);
    };
    worker.on('message', (reply: DecodeReply) => {
      if (reply.type === 'ready') {
        this.started = true;
        this.holdProcess();
        markReady();
      } else {
        this.settle(reply);
      }
    });
    worker.on('error', (error) => fail(new Error(`${label} crashed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (!this.closing) fail(new Error(`${label} exited with code ${code}`));
    });
  }

  render(task: RenderTask): Promise<Rendered> {
    // Ids are unique across renders and stats, so the reply to a render is a rendered one.
    return this.send(task) as Promise<Rendered>;
  }

  stats(id: number): Promise<CacheStats> {
    return (this.send({ type: 'stats', id }) as Promise<StatsReply>).then((reply) => reply.stats);
  }

  rejectAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.holdProcess();
  }

  /** Stops the thread at once; its task, if any, is abandoned (the pool has rejected it). */
  async close(): Promise<void> {
    this.closing = true;
    this.holdProcess();
    await this.worker.terminate();
  }

  private send(request: DecodeRequest): Promise<Rendered | StatsReply> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.holdProcess();
      this.worker.postMessage(request);
    });
  }

  private settle(reply: Exclude<DecodeReply, { type: 'ready' }>): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    this.holdProcess();
    if (reply.type === 'failed') pending.reject(new Error(reply.error));
    else pending.resolve(reply);
  }

  /** Starting, working and closing keep the process alive; an idle pool does not, so a forgotten close cannot hang its exit. */
  private holdProcess(): void {
    if (!this.started || this.closing || this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}

export class DecodePool {
  private readonly threads: DecodeThread[];
  private failure: Error | null = null;
  private closed: Promise<void> | null = null;
  private nextId = 1;

  private constructor(options: DecodePoolOptions) {
    const workerData: DecodeWorkerData = { cacheBytes: Math.floor(options.cacheBytes / options.threads), limits: options.limits, shared: options.shared ?? [] };
    // trackUnmanagedFds (Node's default, relied on) closes the record files a thread keeps open when it is terminated.
    const start = () => startModuleWorker(__dirname, 'decode-worker', { workerData, trackUnmanagedFds: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.threads = Array.from(
      { length: options.threads },
      (_, i) =>
        new DecodeThread(start(), `decode thread ${i + 1} of ${options.threads}`, (error) => {
          this.failure ??= error;
        }),
    );
  }

  /** Starts the threads and resolves once every one is ready for tasks. */
  static async start(options: DecodePoolOptions): Promise<DecodePool> {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error(`a decode pool needs a positive whole number of threads, got ${options.threads}`);
    if (!Number.isSafeInteger(options.cacheBytes) || options.cacheBytes < 0) throw new Error(`a decode pool's cache needs 0 or more whole bytes, got ${options.cacheBytes}`);
    const pool = new DecodePool(options);
    try {
      await Promise.all(pool.threads.map((thread) => thread.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /**
   * Renders `items` into one batch. A sample that cannot be read or decoded fails the batch with
   * `<path>: <reason>`, or with `skipCorrupt` is left out and its position reported.
   */
  async render(items: readonly DecodeItem[], out: ImageShape, norm: Normalization, skipCorrupt: boolean): Promise<RenderedBatch> {
    this.usable();
    for (const { sample } of items) {
      if (!Number.isSafeInteger(sample) || sample < 0) throw new Error(`sample ids are whole numbers of 0 or more, got ${sample}`);
    }
    const id = this.nextId++;
    const parts = this.threads.map(() => ({ positions: [] as number[], items: [] as DecodeItem[] }));
    items.forEach((item, position) => {
      const part = parts[item.sample % parts.length]!;
      part.positions.push(position);
      part.items.push(item);
    });
    const replies = await Promise.all(
      parts.map((part, t) => (part.items.length === 0 ? null : this.threads[t]!.render({ type: 'render', id, items: part.items, out, norm, skipCorrupt }))),
    );
    return assemble(
      items.length,
      out.channels * out.height * out.width,
      parts.flatMap((part, t) => (replies[t] ? [{ positions: part.positions, images: replies[t].images, skipped: replies[t].skipped }] : [])),
    );
  }

  /**
   * The threads' cache counters summed. `peakBytes` is the sum of each thread's peak, which bounds
   * the pool's true peak (the threads need not have peaked at once).
   */
  async stats(): Promise<CacheStats> {
    this.usable();
    const id = this.nextId++;
    const all = await Promise.all(this.threads.map((thread) => thread.stats(id)));
    const sum = (key: keyof CacheStats) => all.reduce((total, stats) => total + stats[key], 0);
    return {
      limitBytes: sum('limitBytes'),
      bytes: sum('bytes'),
      peakBytes: sum('peakBytes'),
      entries: sum('entries'),
      hits: sum('hits'),
      misses: sum('misses'),
      evictions: sum('evictions'),
      uncached: sum('uncached'),
    };
  }

  /** Rejects whatever is pending and stops every thread at once. Safe to call more than once. */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    const error = new Error('the decode pool was closed before this request was answered');
    for (const thread of this.threads) thread.rejectAll(error);
    await Promise.all(this.threads.map((thread) => thread.close()));
  }

  private usable(): void {
    if (this.closed) throw new Error('the decode pool is closed');
    if (this.failure) throw this.failure;
  }
}

/** One thread's answer: `images` for its kept items, `positions` of all its items in the whole batch. */
interface Part {
  readonly positions: readonly number[];
  readonly images: Float32Array;
  readonly skipped: readonly number[];
}

/** Puts the parts' images back in item order, with the skipped items left out. */
function assemble(count: number, size: number, parts: readonly Part[]): RenderedBatch {
  const skipped = parts.flatMap((part) => part.skipped.map((j) => part.positions[j]!)).sort((a, b) => a - b);
  const isSkipped = new Uint8Array(count);
  for (const position of skipped) isSkipped[position] = 1;
  // Where each kept item lands: its position less the skipped items before it.
  const slot = new Int32Array(count);
  for (let position = 0, kept = 0; position < count; position++) {
    slot[position] = kept;
    if (!isSkipped[position]) kept++;
  }
  const images = new Float32Array((count - skipped.length) * size);
  for (const part of parts) {
    let j = 0;
    for (const position of part.positions) {
      if (isSkipped[position]) continue;
      images.set(part.images.subarray(j * size, (j + 1) * size), slot[position]! * size);
      j++;
    }
  }
  return { images, skipped };
}
