/**
 * The three ways a conv's batch norm becomes ONNX. Batch statistics are computed with plain
 * reductions because ORT runs BatchNormalization's training mode on the CPU provider only.
 */
import type { Tensor } from '../weights';
import type { OnnxGraphBuilder } from './proto';
import type { BatchNormParams } from './slice';

export type BatchNormMode = 'batch' | 'running' | 'folded';

/** PyTorch's BatchNorm2d default, which the supernet trainers share. */
export const BN_EPSILON = 1e-5;

/**
 * Normalizes with the statistics of the batch itself, as AutoSlim's large-batch search does.
 * Statistics come from per-image GlobalAveragePool (a contiguous reduction, much faster in ORT
 * than ReduceMean over N, H, W) of x and x², with var = E[x²] − E[x]²; the normalization is one
 * BatchNormalization taking them as inputs, a single pass instead of the four of
 * (x − mean)·γ/σ + β spelled out. This measured fastest of the portable forms on the CPU provider.
 */
export function batchStatisticsNorm(
  b: OnnxGraphBuilder,
  x: string,
  prefix: string,
  bn: BatchNormParams,
  onStatistics?: (mean: string, variance: string) => void,
): string {
  const channelMean = (t: string): string => b.op('ReduceMean', [b.op('GlobalAveragePool', [t])], { axes: [0, 2, 3], keepdims: 0 });
  const mean = channelMean(x);
  const meanOfSquares = channelMean(b.op('Mul', [x, x]));
  // Rounding can leave a constant channel's variance slightly negative, below what eps covers.
  const variance = b.op('Relu', [b.op('Sub', [meanOfSquares, b.op('Mul', [mean, mean])])]);
  onStatistics?.(mean, variance);
  return b.op('BatchNormalization', [x, vector(b, `${prefix}.gamma`, bn.gamma), vector(b, `${prefix}.beta`, bn.beta), mean, variance], {
    epsilon: { float: BN_EPSILON },
  });
}

export function runningStatisticsNorm(b: OnnxGraphBuilder, x: string, prefix: string, bn: BatchNormParams): string {
  const params = [bn.gamma, bn.beta, bn.mean, bn.variance].map((v, i) => vector(b, `${prefix}.${PARAM_NAMES[i]}`, v));
  return b.op('BatchNormalization', [x, ...params], { epsilon: { float: BN_EPSILON } });
}

const PARAM_NAMES = ['gamma', 'beta', 'mean', 'var'];

function vector(b: OnnxGraphBuilder, name: string, values: Float32Array): string {
  return b.floats(name, [values.length], values);
}

/** Running-statistics BN folded into the preceding conv: per output channel scale and shift. */
export function foldIntoConv(weight: Tensor, bn: BatchNormParams): { readonly weight: Tensor; readonly bias: Float32Array } {
  const outChannels = weight.shape[0];
  const perOutput = weight.data.length / outChannels;
  const folded = new Float32Array(weight.data.length);
  const bias = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + BN_EPSILON);
    for (let i = o * perOutput; i < (o + 1) * perOutput; i++) folded[i] = weight.data[i] * scale;
    bias[o] = bn.beta[o] - bn.mean[o] * scale;
  }
  return { weight: { shape: weight.shape, data: folded }, bias };
}
