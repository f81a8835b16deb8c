import * as tf from '@tensorflow/tfjs-core';
import { batchNormActivationTraining, batchNormTraining, relu6 } from '../../../executors/tfjs/batch_norm';
import { fusedBatchNormApplies } from '../../../executors/tfjs/kernels/batch_norm_simd';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { Rng } from '../../../executors/rng';

const SHAPE: [number, number, number, number] = [3, 5, 4, 6];

function random(seed: number, size: number, scale = 1, offset = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size }, () => offset + scale * rng.nextNormal());
}

const size = SHAPE.reduce((a, b) => a * b, 1);
const xData = random(1, size, 2, 0.5);
const gammaData = random(2, SHAPE[3], 0.5, 1);
const betaData = random(3, SHAPE[3]);
const weightData = random(4, size);

/** Value and gradients of Σ r ⊙ f(x, γ, β) with respect to x, γ, β. */
function valueAndGrads(f: (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const args = [tf.tensor4d(xData, SHAPE), tf.tensor1d(gammaData), tf.tensor1d(betaData)] as const;
    const r = tf.tensor4d(weightData, SHAPE);
    const loss = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r));
    const grads = tf.grads(loss)([...args]);
    return [f(...args), ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function reference(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    diff = Math.max(diff, Math.abs(actual[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return diff / scale;
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('training-mode batch norm with a closed-form gradient', () => {
  it('matches autodiff through moments and batchNorm on the cpu backend', async () => {
    await tf.setBackend('cpu');
    const expected = valueAndGrads(reference);
    await selectTrainingBackend(() => undefined);
    const actual = valueAndGrads(batchNormTraining);
    ['value', 'dx', 'dgamma', 'dbeta'].forEach((_, i) => expect(relativeError(actual[i]!, expected[i]!)).toBeLessThan(1e-4));
  });
});

describe('relu6 with a fast gradient', () => {
  it('matches tf.relu6 and its gradient away from the kinks', async () => {
    await tf.setBackend('cpu');
    const run = (op: (x: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => {
        const x = tf.mul(tf.tensor4d(xData, SHAPE), 4);
        const r = tf.tensor4d(weightData, SHAPE);
        const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t), r)))(x);
        return [op(x), dx].map((t) => t.dataSync() as Float32Array);
      });
    const expected = run(tf.relu6);
    await selectTrainingBackend(() => undefined);
    const actual = run(relu6);
    expect(relativeError(actual[0]!, expected[0]!)).toBe(0);
    expect(relativeError(actual[1]!, expected[1]!)).toBe(0);
  });
});

describe('batch norm fused with its activation (wasm SIMD kernels)', () => {
  // Eight channels fill SIMD vectors; γ around 3 puts outputs past both of relu6's kinks.
  const shape: [number, number, number, number] = [3, 5, 4, 8];
  const n = shape.reduce((a, b) => a * b, 1);
  const x = random(5, n, 2, 0.5);
  const gamma = random(6, shape[3], 2, 3);
  const beta = random(7, shape[3]);
  const weights = random(8, n);
  const activations = { none: (t: tf.Tensor) => t, relu: tf.relu, relu6: tf.relu6 };

  function run(f: (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor): Float32Array[] {
    return tf.tidy(() => {
      const args = [tf.tensor4d(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta)] as const;
      const r = tf.tensor4d(weights, shape);
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r)))([...args]);
      return [f(...args), ...grads].map((t) => t.dataSync() as Float32Array);
    });
  }

  it.each(Object.keys(activations) as (keyof typeof activations)[])('matches moments, batchNorm and %s on the cpu backend', async (activation) => {
    await tf.setBackend('cpu');
    const expected = run((a, g, b) => activations[activation](reference(a, g, b)));
    await selectTrainingBackend(() => undefined);
    expect(tf.tidy(() => fusedBatchNormApplies(tf.zeros(shape)))).toBe(true);
    const actual = run((a, g, b) => batchNormActivationTraining(a, g, b, activation));
    ['value', 'dx', 'dgamma', 'dbeta'].forEach((_, i) => expect(relativeError(actual[i]!, expected[i]!)).toBeLessThan(1e-4));
  });

  it('frees every tensor it makes', async () => {
    await selectTrainingBackend(() => undefined);
    run((a, g, b) => batchNormActivationTraining(a, g, b, 'relu6'));
    const before = tf.memory().numTensors;
    run((a, g, b) => batchNormActivationTraining(a, g, b, 'relu6'));
    expect(tf.memory().numTensors).toBe(before);
  });
});
