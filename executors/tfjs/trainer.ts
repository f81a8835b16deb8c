/**
 * The training loop the executor plugin drives: one optimizer step per batch, learning rate from
 * the schedule, metrics reported through a callback, cancellation through an AbortSignal, and
 * the whole state (weights, momentum, step, RNG) saved and restored as one safetensors file.
 * Supernet training samples configs by the sandwich rule; retraining a candidate trains one
 * fixed config with the same step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NetworkGraph } from '../../autoslim/graph';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { Rng } from '../rng';
import { LrSchedule, checkSchedule, learningRate } from './schedule';
import { DEFAULT_SGD, NesterovSgd, SgdSettings } from './sgd';
import { SlimmableNetwork } from './supernet';
import { Batch, ConfigSpace, DEFAULT_RANDOM_CONFIGS, DEFAULT_STEP, StepSettings, sandwichConfigs, trainStep } from './train_step';

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
      const lr = learningRate(this.settings.schedule, this.stepsTaken);
      const configs = this.plan.kind === 'fixed' ? [this.plan.config] : sandwichConfigs(this.plan.space, this.rng, this.plan.randomConfigs);
      const { losses } = trainStep(this.network, this.optimizer, configs, batch, lr, this.settings.step);
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

  dispose(): void {
    this.optimizer.dispose();
    this.network.dispose();
  }
}
