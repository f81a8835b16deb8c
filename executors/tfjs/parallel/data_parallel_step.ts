/**
 * A training step split over data-parallel replicas. Each replica computes the gradients of its
 * shard of the batch; this thread averages them weighted by shard size and takes the optimizer
 * step on its own network, whose weights go out with the next step. This thread's network and
 * optimizer stay the only state, so checkpoints, evaluation and resume are those of a
 * single-threaded run.
 *
 * Batch norm normalises each shard with its own statistics, as PyTorch DDP does without
 * SyncBatchNorm: a step equals the size-weighted mean of single-threaded steps' gradients over
 * the shards, not a single-threaded step over the whole batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkGraph } from '../../../autoslim/graph';
import type { NesterovSgd } from '../sgd';
import type { SlimmableNetwork } from '../supernet';
import type { Batch, StepResult, StepSettings } from '../train_step';
import { FlatGradients, readWeights, unflattenGradients } from './flat_parameters';
import type { ShardResult } from './protocol';
import type { ReplicaPool, ShardWork } from './replica_pool';

interface Shard {
  readonly start: number;
  readonly end: number;
}

/** `count` contiguous shards of `n` images, sizes differing by at most one; none empty. */
export function shardBounds(n: number, count: number): Shard[] {
  const shards = Math.min(n, count);
  return Array.from({ length: shards }, (_, i) => ({ start: Math.floor((i * n) / shards), end: Math.floor(((i + 1) * n) / shards) }));
}

/** Σ weights[i]·results[i] for the gradients and for each config's loss. */
export function combineShards(results: readonly ShardResult[], weights: readonly number[]): { losses: number[]; grads: FlatGradients } {
  const first = results[0]!;
  const data = new Float32Array(first.grads.length);
  const losses = first.losses.map(() => 0);
  results.forEach(({ grads, losses: shardLosses }, i) => {
    const w = weights[i]!;
    for (let j = 0; j < data.length; j++) data[j]! += w * grads[j]!;
    shardLosses.forEach((loss, k) => (losses[k]! += w * loss));
  });
  const present = first.present.map((_, j) => results.some((r) => r.present[j]));
  return { losses, grads: { data, present } };
}

export class DataParallelStep {
  constructor(
    private readonly pool: ReplicaPool,
    private readonly network: SlimmableNetwork,
    private readonly optimizer: NesterovSgd,
  ) {}

  async step(configs: readonly NetworkGraph[], batch: Batch, lr: number, settings: StepSettings, signal: AbortSignal): Promise<StepResult> {
    const [n, height, width, channels] = batch.images.shape;
    const perImage = height * width * channels;
    const images = batch.images.dataSync() as Float32Array;
    const labels = Int32Array.from(batch.labels.dataSync());
    const weights = readWeights(this.network.trainable);
    const shards = shardBounds(n, this.pool.size);
    const work = shards.map(
      ({ start, end }): ShardWork => ({
        weights: weights.slice(),
        configs,
        images: images.slice(start * perImage, end * perImage),
        imageShape: [end - start, height, width, channels],
        labels: labels.slice(start, end),
        settings,
      }),
    );
    const results = await this.pool.run(work, signal);
    const { losses, grads } = combineShards(
      results,
      shards.map(({ start, end }) => (end - start) / n),
    );
    const tensors = unflattenGradients(this.network.trainable, grads);
    try {
      this.optimizer.step(tensors, lr);
    } finally {
      tf.dispose([...tensors.values()]);
    }
    return { losses };
  }

  dispose(): Promise<void> {
    return this.pool.terminate();
  }
}
