/**
 * SGD with Nesterov momentum and decoupled-by-parameter weight decay, with PyTorch's semantics:
 * g ← grad + wd·w (decayed parameters only); v ← μ·v + g; w ← w − lr·(g + μ·v).
 * The momentum buffers are state a checkpoint must carry.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Tensor as WeightTensor, WeightMap } from '../weights';
import { NesterovUpdate, nesterovStepApplies, nesterovStepSimd } from './kernels/sgd_simd';
import { TrainableParameter, fromCanonical, toCanonicalHost } from './supernet';

export interface SgdSettings {
  readonly momentum: number;
  readonly weightDecay: number;
}

export const DEFAULT_SGD: SgdSettings = { momentum: 0.9, weightDecay: 1e-4 };

interface ParameterUpdate extends NesterovUpdate {
  readonly weight: tf.Variable;
  readonly momentum: tf.Variable;
}

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
    const fused: ParameterUpdate[] = [];
    for (const p of this.parameters) {
      const grad = grads.get(p.name);
      if (!grad) continue;
      const update = { weight: p.variable, momentum: this.buffers.get(p.name)!, grad, decayed: p.weightDecay };
      if (nesterovStepApplies(p.variable.size)) fused.push(update);
      else this.stepWithOps(update, lr);
    }
    if (fused.length > 0) this.stepFused(fused, lr);
  }

  /** On wasm, one SIMD pass per parameter (kernels/sgd_simd.ts) instead of eight tfjs kernels. */
  private stepFused(updates: readonly ParameterUpdate[], lr: number): void {
    nesterovStepSimd(updates, lr, this.settings.momentum, this.settings.weightDecay).forEach(([w, v], i) => {
      updates[i]!.momentum.assign(v);
      updates[i]!.weight.assign(w);
      tf.dispose([w, v]);
    });
  }

  private stepWithOps({ weight, momentum: buffer, grad, decayed }: ParameterUpdate, lr: number): void {
    const { momentum, weightDecay } = this.settings;
    tf.tidy(() => {
      const g = decayed && weightDecay > 0 ? tf.add(grad, tf.mul(weight, weightDecay)) : grad;
      const v = tf.add(tf.mul(buffer, momentum), g);
      buffer.assign(v);
      weight.assign(tf.sub(weight, tf.mul(tf.add(g, tf.mul(v, momentum)), lr)));
    });
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
