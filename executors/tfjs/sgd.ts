/**
 * SGD with Nesterov momentum and decoupled-by-parameter weight decay, with PyTorch's semantics:
 * g ← grad + wd·w (decayed parameters only); v ← μ·v + g; w ← w − lr·(g + μ·v).
 * The momentum buffers are state a checkpoint must carry.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Tensor as WeightTensor, WeightMap } from '../weights';
import { TrainableParameter, fromCanonical, toCanonicalHost } from './supernet';

export interface SgdSettings {
  readonly momentum: number;
  readonly weightDecay: number;
}

export const DEFAULT_SGD: SgdSettings = { momentum: 0.9, weightDecay: 1e-4 };

export class NesterovSgd {
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(
    private readonly parameters: readonly TrainableParameter[],
    readonly settings: SgdSettings = DEFAULT_SGD,
  ) {
    for (const p of parameters) this.buffers.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
  }

  /** Applies one update; `grads` maps parameter names to summed gradients (absent = zero). */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay } = this.settings;
    for (const p of this.parameters) {
      const grad = grads.get(p.name);
      if (!grad) continue;
      const buffer = this.buffers.get(p.name)!;
      tf.tidy(() => {
        const g = p.weightDecay && weightDecay > 0 ? tf.add(grad, tf.mul(p.variable, weightDecay)) : grad;
        const v = tf.add(tf.mul(buffer, momentum), g);
        buffer.assign(v);
        p.variable.assign(tf.sub(p.variable, tf.mul(tf.add(g, tf.mul(v, momentum)), lr)));
      });
    }
  }

  /** Momentum buffers by parameter name, in the checkpoint layout of their parameters. */
  exportMomentum(): Map<string, WeightTensor> {
    return new Map(this.parameters.map((p) => [p.name, toCanonicalHost(this.buffers.get(p.name)!, p.toCanonical)]));
  }

  importMomentum(buffers: WeightMap): void {
    tf.tidy(() => {
      for (const p of this.parameters) {
        this.buffers.get(p.name)!.assign(fromCanonical(buffers, p.name, p.variable.shape, p.toCanonical));
      }
    });
  }

  dispose(): void {
    tf.dispose([...this.buffers.values()]);
  }
}
