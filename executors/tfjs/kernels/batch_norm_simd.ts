/**
 * Training-mode batch norm fused with its activation, as WebAssembly SIMD kernels that work on
 * tfjs-wasm's heap in place. Built from tfjs ops, a layer's forward and backward make about
 * seventeen passes over activation-sized tensors (statistics, scale, shift, clamp, the clamp's
 * mask, the closed-form gradient); memory bandwidth, not arithmetic, bounds each of them. Here
 * the forward is two passes (statistics; scale, shift and clamp) and the backward two (the
 * gradient's channel sums; dx), and the per-channel arithmetic runs on the host in float64
 * instead of as some forty tiny tfjs ops a layer.
 *
 * Data is NHWC viewed as [rows, C] with C a multiple of 4, each SIMD vector four channels of one
 * pixel. Channel sums add float32 lanes over 64-row chunks and accumulate the chunks in float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Code, KernelFunction, Kernels, accumulateF64, decrementWhileNonZero, doWhile, increment, loadAt, op } from './wasm_binary';
import { TfjsHeap, tfjsHeap } from './wasm_heap';

const { get, set, i32, add, sub, mul } = op;
const CHUNK_ROWS = 64;
/** dy where lo < y < hi (the activation passes the gradient), else 0. */
const maskedGradient = (dy: number, y: number, offset: number, lo: number, hi: number, yVector: number): Code => [
  ...loadAt(y, offset), ...set(yVector),
  ...loadAt(dy, offset),
  ...get(yVector), ...get(lo), ...op.f32x4Gt, ...get(yVector), ...get(hi), ...op.f32x4Lt, ...op.v128And,
  ...op.v128And,
];

/**
 * Channel sums over row chunks: `perVector` adds one vector's contributions to the float32
 * accumulators, which are flushed to float64 after each chunk by `flush`.
 */
function chunkedChannelSums(
  l: { rows: number; rowBytes: number; chunkStart: number; chunkRows: number; c: number; offset: number; r: number },
  clear: Code,
  perVector: Code,
  flush: Code,
): Code {
  const remaining: Code = [...get(l.rows), ...get(l.chunkStart), ...sub];
  return [
    ...i32(0), ...set(l.chunkStart),
    ...doWhile(
      [
        ...i32(CHUNK_ROWS), ...remaining, ...remaining, ...i32(CHUNK_ROWS), ...op.gtS, ...op.select, ...set(l.chunkRows),
        ...i32(0), ...set(l.c),
        ...doWhile(
          [
            ...clear,
            ...get(l.chunkStart), ...get(l.rowBytes), ...mul, ...get(l.c), ...add, ...set(l.offset),
            ...get(l.chunkRows), ...set(l.r),
            ...doWhile([...perVector, ...increment(l.offset, get(l.rowBytes))], decrementWhileNonZero(l.r)),
            ...flush,
            ...increment(l.c, i32(16)),
          ],
          [...get(l.c), ...get(l.rowBytes), ...op.ltS],
        ),
        ...increment(l.chunkStart, i32(CHUNK_ROWS)),
      ],
      [...get(l.chunkStart), ...get(l.rows), ...op.ltS],
    ),
  ];
}

/** Every row, every four-channel vector: `perVector` with local `offset` at its byte offset and `c` at its channel byte. */
function eachVector(l: { rows: number; rowBytes: number; rowOffset: number; c: number; offset: number; r: number }, perVector: Code): Code {
  return [
    ...i32(0), ...set(l.rowOffset), ...get(l.rows), ...set(l.r),
    ...doWhile(
      [
        ...i32(0), ...set(l.c),
        ...doWhile(
          [...get(l.rowOffset), ...get(l.c), ...add, ...set(l.offset), ...perVector, ...increment(l.c, i32(16))],
          [...get(l.c), ...get(l.rowBytes), ...op.ltS],
        ),
        ...increment(l.rowOffset, get(l.rowBytes)),
      ],
      decrementWhileNonZero(l.r),
    ),
  ];
}

/** moments(x, rows, rowBytes, sums, squares): Σx and Σx² per channel, added to float64 arrays. */
function momentsKernel(): KernelFunction {
  const [x, rows, rowBytes, sums, squares] = [0, 1, 2, 3, 4];
  const l = { rows, rowBytes, chunkStart: 5, chunkRows: 6, c: 7, offset: 8, r: 9 };
  const at = 10;
  const [s, q, v] = [11, 12, 13];
  return {
    name: 'moments', params: 5, i32Locals: 6, v128Locals: 3,
    body: chunkedChannelSums(
      l,
      [...op.v128Zero, ...set(s), ...op.v128Zero, ...set(q)],
      [
        ...loadAt(x, l.offset), ...set(v),
        ...get(s), ...get(v), ...op.f32x4Add, ...set(s),
        ...get(q), ...get(v), ...get(v), ...op.f32x4Mul, ...op.f32x4Add, ...set(q),
      ],
      [
        ...get(sums), ...get(l.c), ...add, ...get(l.c), ...add, ...set(at), ...accumulateF64(at, s),
        ...get(squares), ...get(l.c), ...add, ...get(l.c), ...add, ...set(at), ...accumulateF64(at, q),
      ],
    ),
  };
}

/** scaleShiftClamp(x, out, rows, rowBytes, scale, shift, bounds): out = min(max(x·scale + shift, lo), hi). */
function scaleShiftClampKernel(): KernelFunction {
  const [x, out, rows, rowBytes, scale, shift, bounds] = [0, 1, 2, 3, 4, 5, 6];
  const l = { rows, rowBytes, rowOffset: 7, c: 8, offset: 9, r: 10 };
  const [lo, hi] = [11, 12];
  return {
    name: 'scaleShiftClamp', params: 7, i32Locals: 4, v128Locals: 2,
    body: [
      ...get(bounds), ...op.f32Splat(0), ...set(lo),
      ...get(bounds), ...op.f32Splat(4), ...set(hi),
      ...eachVector(l, [
        ...get(out), ...get(l.offset), ...add,
        ...loadAt(x, l.offset), ...loadAt(scale, l.c), ...op.f32x4Mul, ...loadAt(shift, l.c), ...op.f32x4Add,
        ...get(lo), ...op.f32x4Max, ...get(hi), ...op.f32x4Min,
        ...op.v128Store(0),
      ]),
    ],
  };
}

/** gradientSums(dy, y, x, rows, rowBytes, bounds, sums, products): Σdz and Σdz·x per channel, dz the masked dy. */
function gradientSumsKernel(): KernelFunction {
  const [dy, y, x, rows, rowBytes, bounds, sums, products] = [0, 1, 2, 3, 4, 5, 6, 7];
  const l = { rows, rowBytes, chunkStart: 8, chunkRows: 9, c: 10, offset: 11, r: 12 };
  const at = 13;
  const [lo, hi, s, t, dz, yv] = [14, 15, 16, 17, 18, 19];
  return {
    name: 'gradientSums', params: 8, i32Locals: 6, v128Locals: 6,
    body: [
      ...get(bounds), ...op.f32Splat(0), ...set(lo),
      ...get(bounds), ...op.f32Splat(4), ...set(hi),
      ...chunkedChannelSums(
        l,
        [...op.v128Zero, ...set(s), ...op.v128Zero, ...set(t)],
        [
          ...maskedGradient(dy, y, l.offset, lo, hi, yv), ...set(dz),
          ...get(s), ...get(dz), ...op.f32x4Add, ...set(s),
          ...get(t), ...get(dz), ...loadAt(x, l.offset), ...op.f32x4Mul, ...op.f32x4Add, ...set(t),
        ],
        [
          ...get(sums), ...get(l.c), ...add, ...get(l.c), ...add, ...set(at), ...accumulateF64(at, s),
          ...get(products), ...get(l.c), ...add, ...get(l.c), ...add, ...set(at), ...accumulateF64(at, t),
        ],
      ),
    ],
  };
}

/** inputGradient(dy, y, x, dx, rows, rowBytes, bounds, k, a, b): dx = dz·k + x·a + b per channel. */
function inputGradientKernel(): KernelFunction {
  const [dy, y, x, dx, rows, rowBytes, bounds, k, a, b] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const l = { rows, rowBytes, rowOffset: 10, c: 11, offset: 12, r: 13 };
  const [lo, hi, yv] = [14, 15, 16];
  return {
    name: 'inputGradient', params: 10, i32Locals: 4, v128Locals: 3,
    body: [
      ...get(bounds), ...op.f32Splat(0), ...set(lo),
      ...get(bounds), ...op.f32Splat(4), ...set(hi),
      ...eachVector(l, [
        ...get(dx), ...get(l.offset), ...add,
        ...maskedGradient(dy, y, l.offset, lo, hi, yv), ...loadAt(k, l.c), ...op.f32x4Mul,
        ...loadAt(x, l.offset), ...loadAt(a, l.c), ...op.f32x4Mul, ...op.f32x4Add,
        ...loadAt(b, l.c), ...op.f32x4Add,
        ...op.v128Store(0),
      ]),
    ],
  };
}

const FAMILY = 'batch norm';
const kernelFunctions = () => [momentsKernel(), scaleShiftClampKernel(), gradientSumsKernel(), inputGradientKernel()];

export type Clamp = readonly [number, number];

/** Where the fused kernels run: the wasm backend, with whole four-channel vectors. */
export function fusedBatchNormApplies(x: tf.Tensor4D): boolean {
  return x.shape[3] % 4 === 0 && tfjsHeap() !== null;
}

function heapKernels(): { h: TfjsHeap; k: Kernels } {
  const h = tfjsHeap()!;
  return { h, k: h.kernels(FAMILY, kernelFunctions) };
}

/** Two per-channel float64 sums of [rows, C] data, by `kernel` with the given leading arguments. */
function channelSums(kernel: string, leading: number[], rows: number, channels: number, trailing: number[]): [Float64Array, Float64Array] {
  const { h, k } = heapKernels();
  const sums = h.output([4 * channels]);
  try {
    const at = h.address(sums);
    new Float64Array(h.memory.buffer, at, 2 * channels).fill(0);
    k[kernel]!(...leading, rows, channels * 4, ...trailing, at, at + channels * 8);
    const both = new Float64Array(h.memory.buffer, at, 2 * channels);
    return [both.slice(0, channels), both.slice(channels)];
  } finally {
    sums.dispose();
  }
}

/** Σx and Σx² per channel of NHWC `x`. */
export function channelMoments(x: tf.Tensor4D): [Float64Array, Float64Array] {
  return channelSums('moments', [tfjsHeap()!.address(x)], x.size / x.shape[3], x.shape[3], []);
}

/** min(max(x·scale + shift, lo), hi) per channel, as a new tensor. */
export function scaleShiftClamp(x: tf.Tensor4D, scale: Float32Array, shift: Float32Array, clamp: Clamp): tf.Tensor4D {
  const { h, k } = heapKernels();
  const params = tf.tensor1d([...scale, ...shift, ...clamp]);
  try {
    const out = h.output<tf.Rank.R4>(x.shape);
    const p = h.address(params);
    const channels = x.shape[3];
    k.scaleShiftClamp!(h.address(x), h.address(out), x.size / channels, channels * 4, p, p + channels * 4, p + channels * 8);
    return out;
  } finally {
    params.dispose();
  }
}

/** Σdz and Σdz·x per channel, dz = dy where the clamp that produced y passed it. */
export function maskedGradientSums(dy: tf.Tensor4D, y: tf.Tensor4D, x: tf.Tensor4D, clamp: Clamp): [Float64Array, Float64Array] {
  const h = tfjsHeap()!;
  const bounds = tf.tensor1d([...clamp]);
  try {
    return channelSums('gradientSums', [h.address(dy), h.address(y), h.address(x)], x.size / x.shape[3], x.shape[3], [h.address(bounds)]);
  } finally {
    bounds.dispose();
  }
}

/** dz·k + x·a + b per channel, dz as in maskedGradientSums, as a new tensor. */
export function maskedAffineGradient(dy: tf.Tensor4D, y: tf.Tensor4D, x: tf.Tensor4D, clamp: Clamp, k: Float32Array, a: Float32Array, b: Float32Array): tf.Tensor4D {
  const { h, k: kernels } = heapKernels();
  const channels = x.shape[3];
  const params = tf.tensor1d([...k, ...a, ...b, ...clamp]);
  try {
    const dx = h.output<tf.Rank.R4>(x.shape);
    const p = h.address(params);
    const stride = channels * 4;
    kernels.inputGradient!(h.address(dy), h.address(y), h.address(x), h.address(dx), x.size / channels, stride, p + 3 * stride, p, p + stride, p + 2 * stride);
    return dx;
  } finally {
    params.dispose();
  }
}
