/**
 * The training loop the executor plugin drives: one optimizer step per batch, learning rate from
 * the schedule, metrics reported through a callback, cancellation through an AbortSignal, and
 * the whole state (weights, momentum, step, RNG) saved and restored as one safetensors file.
 * Supernet training samples configs by the sandwich rule; retraining a candidate trains one
 * fixed config with the same step, in this thread or split over data-parallel workers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NetworkGraph } from '../../autoslim/graph';
import { profileGraph } from '../../autoslim/profile';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { Rng } from '../rng';
import { LrSchedule, checkSchedule, learningRate } from './schedule';
import { DEFAULT_SGD, NesterovSgd, SgdSettings } from './sgd';
import type { WorkerChoice, WorkerOption } from './parallel/worker_count';
import { StartedEngine, startStepEngine } from './step_engine';
import { SlimmableNetwork } from './supernet';
import { Batch, ConfigSpace, DEFAULT_RANDOM_CONFIGS, DEFAULT_STEP, StepSettings, sandwichConfigs } from './train_step';

const SAMPLING_STREAM = 0x9e3779b9;

/** Which configs each step trains. */
export type ConfigPlan =
  | { readonly kind: 'sandwich'; readonly space: ConfigSpace; readonly randomConfigs: number }
  | { readonly kind: 'fixed'; readonly config: NetworkGraph };

export interface TrainerSettings {
  readonly schedule: LrSchedule;
  readonly step: StepSettings;
  readonly sgd: SgdSettings;
  /** Seeds weight initialisation and config sampling. */
  readonly seed: number;
  /** Data-parallel worker threads (parallel/worker_count.ts); 'auto' when absent. */
  readonly workers?: WorkerOption;
}

export function defaultTrainerSettings(schedule: LrSchedule, seed: number): TrainerSettings {
  return { schedule, step: DEFAULT_STEP, sgd: DEFAULT_SGD, seed };
}

export function sandwichPlan(space: ConfigSpace, randomConfigs = DEFAULT_RANDOM_CONFIGS): ConfigPlan {
  return { kind: 'sandwich', space, randomConfigs };
}

export interface StepMetrics {
  /** 1-based number of the optimizer step just taken. */
  readonly step: number;
  readonly lr: number;
  /** Loss of the widest (or the fixed) config. */
  readonly loss: number;
  /** Loss of every config trained in the step, widest first. */
  readonly configLosses: readonly number[];
}

export class Trainer {
  readonly network: SlimmableNetwork;
  private readonly optimizer: NesterovSgd;
  private rng: Rng;
  private stepsTaken = 0;
  private engine: Promise<StartedEngine> | null = null;

  constructor(
    supernet: NetworkGraph,
    private readonly plan: ConfigPlan,
    private readonly settings: TrainerSettings,
  ) {
    checkSchedule(settings.schedule);
    this.network = new SlimmableNetwork(supernet, settings.seed);
    this.optimizer = new NesterovSgd(this.network.trainable, settings.sgd);
    // A different stream from the weight initialisation, which uses the seed itself.
    this.rng = new Rng((settings.seed ^ SAMPLING_STREAM) >>> 0);
  }

  get step(): number {
    return this.stepsTaken;
  }

  get finished(): boolean {
    return this.stepsTaken >= this.settings.schedule.totalIterations;
  }

  /**
   * Chooses and starts what takes the steps, for batches of `batchSize`. `train` does this on its
   * first batch; the first call decides and later ones return its choice.
   */
  async prepare(batchSize: number): Promise<WorkerChoice> {
    return (await this.startedEngine(batchSize)).choice;
  }

  /**
   * Trains on `batches` until the schedule ends or the batches run out. Checks `signal` before
   * every step and throws its reason when aborted; the state stays consistent at step borders.
   */
  async train(
    batches: AsyncIterable<Batch> | Iterable<Batch>,
    signal: AbortSignal,
    onStep: (metrics: StepMetrics) => void | Promise<void>,
  ): Promise<void> {
    for await (const batch of batches) {
      if (this.finished) return;
      signal.throwIfAborted();
      const { engine } = await this.startedEngine(batch.images.shape[0]);
      const lr = learningRate(this.settings.schedule, this.stepsTaken);
      const configs = this.plan.kind === 'fixed' ? [this.plan.config] : sandwichConfigs(this.plan.space, this.rng, this.plan.randomConfigs);
      const { losses } = await engine.step(configs, batch, lr, this.settings.step, signal);
      this.stepsTaken++;
      await onStep({ step: this.stepsTaken, lr, loss: losses[0]!, configLosses: losses });
    }
  }

  /** Top-1 accuracy of `config` on one batch, with batch statistics or the recalibrated ones. */
  accuracy(config: NetworkGraph, batch: Batch, normalization: 'batch' | 'running'): number {
    return tf.tidy(() => {
      const predicted = tf.argMax(this.network.forward(config, batch.images, normalization), 1);
      return tf.mean(tf.cast(tf.equal(predicted, tf.cast(batch.labels, 'int32')), 'float32')).dataSync()[0]!;
    });
  }

  saveState(): Buffer {
    return encodeCheckpoint(this.network, this.optimizer, { step: this.stepsTaken, rngState: this.rng.state });
  }

  loadState(file: Buffer): void {
    const loop = decodeCheckpoint(file, this.network, this.optimizer);
    this.stepsTaken = loop.step;
    this.rng = new Rng(loop.rngState);
  }

  /** Frees the tensors and stops any workers. */
  async dispose(): Promise<void> {
    const stopping = this.engine?.then(({ engine }) => engine.dispose(), () => undefined);
    this.optimizer.dispose();
    this.network.dispose();
    await stopping;
  }

  private startedEngine(batchSize: number): Promise<StartedEngine> {
    const configsPerStep = this.plan.kind === 'fixed' ? 1 : 2 + this.plan.randomConfigs;
    const widest = this.plan.kind === 'fixed' ? this.plan.config : this.network.supernet;
    this.engine ??= startStepEngine(this.settings.workers ?? 'auto', this.network, this.optimizer, {
      backend: tf.getBackend(),
      batchSize,
      macs: batchSize * configsPerStep * profileGraph(widest).macs,
    });
    return this.engine;
  }
}
