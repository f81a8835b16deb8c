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
 * The conv output is viewed as [N, C, H·W] so both statistics are reductions over the contiguous
 * last axis (much faster in ORT than ReduceMean over N, H, W), and E[x²] comes from
 * ReduceSumSquare, which never writes x² out; var = E[x²] − E[x]². The normalization is one
 * BatchNormalization taking them as inputs, a single pass instead of the four of
 * (x − mean)·γ/σ + β spelled out. bench/slim.ts measures it.
 *
 * `channelMask` (a [C] tensor of 0/1) multiplies γ and β, so a masked channel comes out exactly 0
 * without a pass of its own over the activations.
 */
export function batchStatisticsNorm(
  b: OnnxGraphBuilder,
  x: string,
  prefix: string,
  bn: BatchNormParams,
  pixels: number,
  channelMask: string | null,
  onStatistics?: (mean: string, variance: string) => void,
): string {
  const channels = bn.gamma.length;
  const flat = b.op('Reshape', [x, b.int64s(`${prefix}.flat`, [3], [0, channels, -1])]);
  const overBatch = (t: string): string => b.op('ReduceMean', [t], { axes: [0], keepdims: 0 });
  const mean = overBatch(b.op('ReduceMean', [flat], { axes: [2], keepdims: 0 }));
  const sumOfSquares = overBatch(b.op('ReduceSumSquare', [flat], { axes: [2], keepdims: 0 }));
  const meanOfSquares = b.op('Div', [sumOfSquares, b.scalar(`${prefix}.pixels`, pixels)]);
  // Rounding can leave a constant channel's variance slightly negative, below what eps covers.
  const variance = b.op('Relu', [b.op('Sub', [meanOfSquares, b.op('Mul', [mean, mean])])]);
  onStatistics?.(mean, variance);
  const [gamma, beta] = affine(b, prefix, bn, channelMask);
  return b.op('BatchNormalization', [x, gamma, beta, mean, variance], { epsilon: { float: BN_EPSILON } });
}

export function runningStatisticsNorm(b: OnnxGraphBuilder, x: string, prefix: string, bn: BatchNormParams, channelMask: string | null): string {
  const [gamma, beta] = affine(b, prefix, bn, channelMask);
  return b.op('BatchNormalization', [x, gamma, beta, vector(b, `${prefix}.mean`, bn.mean), vector(b, `${prefix}.var`, bn.variance)], {
    epsilon: { float: BN_EPSILON },
  });
}

function affine(b: OnnxGraphBuilder, prefix: string, bn: BatchNormParams, channelMask: string | null): [string, string] {
  const gamma = vector(b, `${prefix}.gamma`, bn.gamma);
  const beta = vector(b, `${prefix}.beta`, bn.beta);
  if (channelMask === null) return [gamma, beta];
  return [b.op('Mul', [gamma, channelMask]), b.op('Mul', [beta, channelMask])];
}

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
