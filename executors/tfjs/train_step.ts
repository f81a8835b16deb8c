/**
 * One optimisation step over one batch: the sandwich rule for supernet training (widest,
 * narrowest and n random configs, gradients summed, then one SGD step) and the plain
 * fixed-width step for retraining a candidate, which is the same code with one config.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NetworkGraph } from '../../autoslim/graph';
import { DistillationMode, smoothedCrossEntropy, studentLoss } from './losses';
import { Rng } from '../rng';
import { NesterovSgd } from './sgd';
import { SlimmableNetwork } from './supernet';

/** The configurations of one supernet a sandwich step draws from. */
export interface ConfigSpace {
  readonly widest: NetworkGraph;
  readonly narrowest: NetworkGraph;
  /** A configuration whose every channel unit is drawn independently. */
  sample(rng: Rng): NetworkGraph;
}

export interface StepSettings {
  readonly labelSmoothing: number;
  readonly distillation: DistillationMode;
}

export const DEFAULT_STEP: StepSettings = { labelSmoothing: 0.1, distillation: 'soft' };

export interface Batch {
  /** NHWC images. */
  readonly images: tf.Tensor4D;
  /** Class indices. */
  readonly labels: tf.Tensor1D;
}

/** The loss of every config trained in a step, in training order (widest first). */
export interface StepResult {
  readonly losses: readonly number[];
}

/** The sandwich rule's default number of random configs per step. */
export const DEFAULT_RANDOM_CONFIGS = 2;

/** The configs of one sandwich step: widest, narrowest, then `randomConfigs` samples. */
export function sandwichConfigs(space: ConfigSpace, rng: Rng, randomConfigs = DEFAULT_RANDOM_CONFIGS): NetworkGraph[] {
  if (!Number.isInteger(randomConfigs) || randomConfigs < 0) {
    throw new Error(`randomConfigs must be a non-negative integer, got ${randomConfigs}`);
  }
  return [space.widest, space.narrowest, ...Array.from({ length: randomConfigs }, () => space.sample(rng))];
}

/** The summed gradients of every config's loss, by parameter name, and the losses. */
export interface Gradients {
  readonly losses: readonly number[];
  /** Owned by the caller, who disposes them. */
  readonly grads: Map<string, tf.Tensor>;
}

/**
 * Gradients of `configs[0]`'s loss on the labels and of every later config's loss by
 * `settings.distillation` from configs[0]'s (detached) softmax, summed over configs.
 */
export function computeGradients(network: SlimmableNetwork, configs: readonly NetworkGraph[], batch: Batch, settings: StepSettings): Gradients {
  const variables = network.trainable.map((p) => p.variable);
  const names = new Map(network.trainable.map((p) => [p.variable.name, p.name]));
  const summed = new Map<string, tf.Tensor>();
  const losses: number[] = [];
  let teacherProbs: tf.Tensor2D | undefined;
  try {
    configs.forEach((config, i) => {
      const { value, grads } = tf.variableGrads(() => {
        const logits = network.forward(config, batch.images, 'batch');
        if (i === 0) {
          if (configs.length > 1) teacherProbs = tf.keep(tf.softmax(logits));
          return smoothedCrossEntropy(logits, batch.labels, settings.labelSmoothing);
        }
        return studentLoss(settings.distillation, logits, batch.labels, teacherProbs!, settings.labelSmoothing);
      }, variables);
      losses.push(value.dataSync()[0]!);
      value.dispose();
      for (const [varName, grad] of Object.entries(grads)) {
        const name = names.get(varName)!;
        const prev = summed.get(name);
        if (prev) {
          summed.set(name, tf.add(prev, grad));
          tf.dispose([prev, grad]);
        } else {
          summed.set(name, grad);
        }
      }
    });
  } catch (err) {
    tf.dispose([...summed.values()]);
    throw err;
  } finally {
    teacherProbs?.dispose();
  }
  return { losses, grads: summed };
}

/** One SGD step on the gradients `computeGradients` sums over `configs`. */
export function trainStep(
  network: SlimmableNetwork,
  optimizer: NesterovSgd,
  configs: readonly NetworkGraph[],
  batch: Batch,
  lr: number,
  settings: StepSettings,
): StepResult {
  const { losses, grads } = computeGradients(network, configs, batch, settings);
  try {
    optimizer.step(grads, lr);
  } finally {
    tf.dispose([...grads.values()]);
  }
  return { losses };
}
