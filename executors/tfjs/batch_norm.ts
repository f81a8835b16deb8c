/**
 * Batch normalisation for the tfjs trainer. Training mode uses batch statistics and a closed-form
 * gradient. On wasm it runs fused with the activation in SIMD kernels of our own where the channels
 * fill whole vectors; otherwise (other backends, odd widths) both modes are built only from ops
 * that wasm runs through XNNPACK (elementwise mul/add, pooling). Autodiff through moments +
 * batchNorm would run wasm's scalar reduction, transpose and FusedBatchNorm loops and the
 * registered FusedBatchNorm gradient, which tiles per-channel vectors to the activation's full shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../autoslim/graph';
import { Clamp, channelMoments, fusedBatchNormApplies, maskedAffineGradient, maskedGradientSums, scaleShiftClamp } from './kernels/batch_norm_simd';

export const BN_EPSILON = 1e-5;

/**
 * Per-channel sums of an NHWC tensor. wasm's Sum over N, H, W transposes and loops in scalar code,
 * and a matMul with a row of ones repacks the whole tensor; XNNPACK's global average pool is a
 * fraction of either.
 */
function channelSums(x: tf.Tensor4D): tf.Tensor1D {
  const [n, h, w, channels] = x.shape;
  const pooled = tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [n, channels]);
  return tf.mul(tf.sum(pooled, 0), h * w) as tf.Tensor1D;
}

/** The batch's per-channel mean and biased variance (the one normalisation uses). */
function batchMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const count = x.size / x.shape[3];
  const mean = tf.div(channelSums(x), count) as tf.Tensor1D;
  const meanOfSquares = tf.div(channelSums(tf.square(x)), count);
  return { mean, variance: tf.relu(tf.sub(meanOfSquares, tf.square(mean))) as tf.Tensor1D };
}

const normalizeWithBatchStatistics = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, gamma, beta] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  const save = args[3] as tf.GradSaveFunc;
  const { mean, variance } = batchMoments(x);
  const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
  const scale = tf.mul(gamma, invStd);
  save([x, mean, invStd, scale]);
  return {
    value: tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(mean, scale))) as tf.Tensor4D,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, mu, inv, k] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      const count = xs.size / xs.shape[3];
      const dBeta = channelSums(dy);
      // Σ dy·x̂ = invStd·(Σ dy·x − mean·Σ dy), so x̂ is never materialised.
      const dGamma = tf.mul(inv, tf.sub(channelSums(tf.mul(dy, xs)), tf.mul(mu, dBeta)));
      // dx = k·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), rearranged to dy·k + x·a + b with per-channel a, b.
      const a = tf.neg(tf.div(tf.mul(tf.mul(k, inv), dGamma), count));
      const b = tf.sub(tf.neg(tf.mul(mu, a)), tf.div(tf.mul(k, dBeta), count));
      const dx = tf.add(tf.add(tf.mul(dy, k), tf.mul(xs, a)), b);
      return [dx, dGamma, dBeta];
    },
  };
};

/** Normalises NHWC `x` per channel with its own batch statistics, then scales and shifts. */
export const batchNormTraining = tf.customGrad(normalizeWithBatchStatistics) as (
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
) => tf.Tensor4D;

/** The activation as a clamp: what it passes through unchanged. */
const CLAMPS: Record<Activation, Clamp> = { none: [-Infinity, Infinity], relu: [0, Infinity], relu6: [0, 6] };

/**
 * batchNormTraining followed by `activation`, by the fused SIMD kernels (kernels/batch_norm_simd.ts).
 * Statistics and the gradient's per-channel terms are computed on the host in float64.
 */
const fusedBatchNormActivation = (activation: Activation) =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, gamma, beta] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const clamp = CLAMPS[activation];
    const channels = x.shape[3];
    const count = x.size / channels;
    const [sums, squares] = channelMoments(x);
    const g = gamma.dataSync();
    const b = beta.dataSync();
    const mean = new Float64Array(channels);
    const invStd = new Float64Array(channels);
    const scale = new Float32Array(channels);
    const shift = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      mean[c] = sums[c]! / count;
      invStd[c] = 1 / Math.sqrt(Math.max(0, squares[c]! / count - mean[c]! ** 2) + BN_EPSILON);
      scale[c] = g[c]! * invStd[c]!;
      shift[c] = b[c]! - mean[c]! * scale[c]!;
    }
    const y = scaleShiftClamp(x, scale, shift, clamp);
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [dzSums, dzxSums] = maskedGradientSums(dy, ys, xs, clamp);
        const dGamma = new Float32Array(channels);
        const a = new Float32Array(channels);
        const offset = new Float32Array(channels);
        for (let c = 0; c < channels; c++) {
          // Σ dz·x̂ = invStd·(Σ dz·x − mean·Σ dz); dx = k·(dz − Σdz/M − x̂·Σ(dz·x̂)/M) = dz·k + x·a + b.
          dGamma[c] = invStd[c]! * (dzxSums[c]! - mean[c]! * dzSums[c]!);
          a[c] = (-scale[c]! * invStd[c]! * dGamma[c]!) / count;
          offset[c] = -mean[c]! * a[c]! - (scale[c]! * dzSums[c]!) / count;
        }
        const dx = maskedAffineGradient(dy, ys, xs, clamp, scale, a, offset);
        return [dx, tf.tensor1d(dGamma), tf.tensor1d(Float32Array.from(dzSums))];
      },
    };
  }) as (x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor4D;

const FUSED: Record<Activation, (x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor4D> = {
  none: fusedBatchNormActivation('none'),
  relu: fusedBatchNormActivation('relu'),
  relu6: fusedBatchNormActivation('relu6'),
};

/**
 * Training-mode batch norm, then `activation`: fused on wasm when the channels fill SIMD
 * vectors, from tfjs ops elsewhere (other backends, odd widths).
 */
export function batchNormActivationTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, activation: Activation): tf.Tensor4D {
  return fusedBatchNormApplies(x) ? FUSED[activation](x, gamma, beta) : activate(batchNormTraining(x, gamma, beta), activation);
}

/** Normalises with given (running) statistics, as one per-channel multiply-add. */
export function batchNormInference(x: tf.Tensor4D, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor4D {
  // wasm's FusedBatchNorm is a scalar loop; XNNPACK's broadcasting mul and add are not.
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON)));
  return tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(mean, scale)));
}

/** The batch's per-channel mean and unbiased variance, as PyTorch's running statistics use. */
export function batchStatistics(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { mean, variance } = batchMoments(x);
  const count = x.size / x.shape[3];
  return { mean, variance: tf.mul(variance, count / Math.max(1, count - 1)) as tf.Tensor1D };
}

const clipToSix = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const y = tf.relu6(x);
  save([y]);
  return {
    value: y,
    // 0 < y < 6 exactly where y·(6 − y) > 0: three XNNPACK passes instead of wasm's scalar
    // comparison and cast loops in the registered Relu6 gradient.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.step(tf.mul(saved[0]!, tf.sub(6, saved[0]!)))),
  };
};

/** min(max(x, 0), 6) with a gradient made of fast wasm ops. */
export const relu6 = tf.customGrad(clipToSix) as <T extends tf.Tensor>(x: T) => T;

export function activate<T extends tf.Tensor>(x: T, activation: Activation): T {
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return relu6(x);
  }
}
