/**
 * All trainable parameters (or their gradients) as one Float32Array in `network.trainable`
 * order: one buffer per message between replicas, transferable without copying.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainableParameter } from '../supernet';

/** Gradients in flat form; `present[i]` is false where parameter i got no gradient. */
export interface FlatGradients {
  readonly data: Float32Array;
  readonly present: readonly boolean[];
}

export function flatSize(parameters: readonly TrainableParameter[]): number {
  return parameters.reduce((n, p) => n + p.variable.size, 0);
}

export function readWeights(parameters: readonly TrainableParameter[]): Float32Array {
  const flat = new Float32Array(flatSize(parameters));
  let offset = 0;
  for (const p of parameters) {
    flat.set(p.variable.dataSync() as Float32Array, offset);
    offset += p.variable.size;
  }
  return flat;
}

export function writeWeights(parameters: readonly TrainableParameter[], flat: Float32Array): void {
  checkLength(parameters, flat);
  let offset = 0;
  tf.tidy(() => {
    for (const p of parameters) {
      p.variable.assign(tf.tensor(flat.subarray(offset, offset + p.variable.size), p.variable.shape));
      offset += p.variable.size;
    }
  });
}

/** Flattens gradients keyed by parameter name; absent ones read as zeros and are flagged. */
export function flattenGradients(parameters: readonly TrainableParameter[], grads: ReadonlyMap<string, tf.Tensor>): FlatGradients {
  const data = new Float32Array(flatSize(parameters));
  let offset = 0;
  const present = parameters.map((p) => {
    const grad = grads.get(p.name);
    if (grad) data.set(grad.dataSync() as Float32Array, offset);
    offset += p.variable.size;
    return grad !== undefined;
  });
  return { data, present };
}

/** Tensors of the present gradients, keyed by parameter name; the caller disposes them. */
export function unflattenGradients(parameters: readonly TrainableParameter[], flat: FlatGradients): Map<string, tf.Tensor> {
  checkLength(parameters, flat.data);
  const grads = new Map<string, tf.Tensor>();
  let offset = 0;
  parameters.forEach((p, i) => {
    if (flat.present[i]) grads.set(p.name, tf.tensor(flat.data.subarray(offset, offset + p.variable.size), p.variable.shape));
    offset += p.variable.size;
  });
  return grads;
}

function checkLength(parameters: readonly TrainableParameter[], flat: Float32Array): void {
  const expected = flatSize(parameters);
  if (flat.length !== expected) throw new Error(`flat parameters: got ${flat.length} values, the network has ${expected}`);
}
