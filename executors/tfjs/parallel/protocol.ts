/** Messages between the training thread and its data-parallel replica workers. */
import type { NetworkGraph } from '../../../autoslim/graph';
import type { StepSettings } from '../train_step';

/** A replica's workerData: the supernet it mirrors and the backend the training thread chose. */
export interface ReplicaInit {
  readonly supernet: NetworkGraph;
  readonly backend: string;
}

/** One replica's part of one step: the current weights and a shard of the batch. */
export interface ShardRequest {
  readonly id: number;
  /** Every trainable parameter, flat in `network.trainable` order (flat_parameters.ts). */
  readonly weights: Float32Array;
  readonly configs: readonly NetworkGraph[];
  /** NHWC images of the shard. */
  readonly images: Float32Array;
  readonly imageShape: readonly [number, number, number, number];
  readonly labels: Int32Array;
  readonly settings: StepSettings;
}

/** The shard's gradients summed over configs (each the gradient of a shard-mean loss). */
export interface ShardResult {
  readonly id: number;
  readonly losses: readonly number[];
  readonly grads: Float32Array;
  readonly present: readonly boolean[];
}

export type ReplicaMessage =
  | { readonly type: 'ready' }
  | ({ readonly type: 'result' } & ShardResult)
  | { readonly type: 'error'; readonly message: string; readonly stack?: string };
