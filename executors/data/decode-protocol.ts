/** The messages between the decode pool (decode-pool.ts) and each of its threads (decode-worker.ts). */
import type { DatasetLimits } from './dataset-limits';
import type { CacheStats } from './decoded-cache';
import type { ImageShape, Normalization, SamplePlan, SampleRef } from './sample';

/** One sample of a batch; `sample` is its id in the dataset, which keys the cache. */
export interface DecodeItem {
  readonly sample: number;
  readonly ref: SampleRef;
  readonly plan: SamplePlan;
}

export interface DecodeWorkerData {
  /** This thread's share of the pool's cache. */
  readonly cacheBytes: number;
  readonly limits: DatasetLimits;
  /** The buffers that `shared` refs index. */
  readonly shared: readonly SharedArrayBuffer[];
}

export interface RenderTask {
  readonly type: 'render';
  readonly id: number;
  readonly items: readonly DecodeItem[];
  readonly out: ImageShape;
  readonly norm: Normalization;
  readonly skipCorrupt: boolean;
}

export type DecodeRequest = RenderTask | { readonly type: 'stats'; readonly id: number };

export type DecodeReply =
  | { readonly type: 'ready' }
  /** `images` holds the kept items in task order; `skipped` their positions in the task's items. */
  | { readonly type: 'rendered'; readonly id: number; readonly images: Float32Array; readonly skipped: readonly number[] }
  | { readonly type: 'failed'; readonly id: number; readonly error: string }
  | { readonly type: 'stats'; readonly id: number; readonly stats: CacheStats };
