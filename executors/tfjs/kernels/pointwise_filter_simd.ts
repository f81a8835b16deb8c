/**
 * The filter gradient of a 1×1 stride-1 convolution, dW = Xᵀ·dY over the N·H·W pixels, as a
 * WebAssembly SIMD kernel on tfjs-wasm's heap. Through XNNPACK it needs an explicit transpose of
 * one operand and a repacking of the other on every call (both activation-sized, both
 * cache-unfriendly), which cost as much as the multiply itself; this kernel reads x and dy where
 * they lie.
 *
 * Blocks of 4 input × 8 output channels accumulate in eight float32 vectors over 128-pixel chunks
 * (x and dy rows of a chunk stay in cache for every block), then add into float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelFunction, accumulateF64, decrementWhileNonZero, doWhile, increment, op } from './wasm_binary';
import { tfjsHeap } from './wasm_heap';

const { get, set, i32, add, sub, mul } = op;
const CHUNK_ROWS = 128;

/** gradient(x, dy, acc, rows, xRowBytes, dyRowBytes, accRowBytes): acc[ci, co] += Σ x[m, ci]·dy[m, co]. */
function gradientKernel(): KernelFunction {
  const [x, dy, acc, rows, xRowBytes, dyRowBytes, accRowBytes] = [0, 1, 2, 3, 4, 5, 6];
  const [chunkStart, chunkRows, ci, co, xp, dp, r, at] = [7, 8, 9, 10, 11, 12, 13, 14];
  const [d0, d1, s] = [15, 16, 17];
  const sums = [18, 19, 20, 21, 22, 23, 24, 25];
  const remaining = [...get(rows), ...get(chunkStart), ...sub];
  const perPixel = [
    ...get(dp), ...op.v128Load(0), ...set(d0),
    ...get(dp), ...op.v128Load(16), ...set(d1),
    ...[0, 1, 2, 3].flatMap((k) => [
      ...get(xp), ...op.f32Splat(4 * k), ...set(s),
      ...get(sums[2 * k]!), ...get(s), ...get(d0), ...op.f32x4Mul, ...op.f32x4Add, ...set(sums[2 * k]!),
      ...get(sums[2 * k + 1]!), ...get(s), ...get(d1), ...op.f32x4Mul, ...op.f32x4Add, ...set(sums[2 * k + 1]!),
    ]),
    ...increment(xp, get(xRowBytes)),
    ...increment(dp, get(dyRowBytes)),
  ];
  const flush = [0, 1, 2, 3].flatMap((k) => [
    // Row ci/4 + k of acc, columns from co/4, in float64 (8 bytes a value).
    ...get(acc), ...get(ci), ...i32(4), ...op.divU, ...i32(k), ...add, ...get(accRowBytes), ...mul, ...add, ...get(co), ...i32(2), ...mul, ...add, ...set(at),
    ...accumulateF64(at, sums[2 * k]!),
    ...increment(at, i32(32)),
    ...accumulateF64(at, sums[2 * k + 1]!),
  ]);
  const block = doWhile(
    [
      ...sums.flatMap((v) => [...op.v128Zero, ...set(v)]),
      ...get(x), ...get(chunkStart), ...get(xRowBytes), ...mul, ...add, ...get(ci), ...add, ...set(xp),
      ...get(dy), ...get(chunkStart), ...get(dyRowBytes), ...mul, ...add, ...get(co), ...add, ...set(dp),
      ...get(chunkRows), ...set(r),
      ...doWhile(perPixel, decrementWhileNonZero(r)),
      ...flush,
      ...increment(co, i32(32)),
    ],
    [...get(co), ...get(dyRowBytes), ...op.ltS],
  );
  const inputBlock = doWhile([...i32(0), ...set(co), ...block, ...increment(ci, i32(16))], [...get(ci), ...get(xRowBytes), ...op.ltS]);
  return {
    name: 'gradient', params: 7, i32Locals: 8, v128Locals: 11,
    body: [
      ...i32(0), ...set(chunkStart),
      ...doWhile(
        [
          ...i32(CHUNK_ROWS), ...remaining, ...remaining, ...i32(CHUNK_ROWS), ...op.gtS, ...op.select, ...set(chunkRows),
          ...i32(0), ...set(ci),
          ...inputBlock,
          ...increment(chunkStart, i32(CHUNK_ROWS)),
        ],
        [...get(chunkStart), ...get(rows), ...op.ltS],
      ),
    ],
  };
}

/** Where the kernel runs: the wasm backend, input channels in fours and output channels in eights. */
export function pointwiseFilterGradientApplies(inChannels: number, outChannels: number): boolean {
  return inChannels % 4 === 0 && outChannels % 8 === 0 && tfjsHeap() !== null;
}

/** Xᵀ·dY over the pixels of NHWC x and dy, as the gradient of a [1, 1, cin, cout] filter. */
export function pointwiseFilterGradientSimd(x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: readonly [1, 1, number, number]): tf.Tensor4D {
  const [, , inChannels, outChannels] = filterShape;
  const h = tfjsHeap()!;
  const kernels = h.kernels('pointwise filter gradient', () => [gradientKernel()]);
  const acc = h.output([2 * inChannels * outChannels]);
  try {
    const at = h.address(acc);
    new Float64Array(h.memory.buffer, at, inChannels * outChannels).fill(0);
    const pixels = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    kernels.gradient!(h.address(x), h.address(dy), at, pixels, inChannels * 4, outChannels * 4, outChannels * 8);
    const sums = new Float64Array(h.memory.buffer, at, inChannels * outChannels).slice();
    const out = h.output<tf.Rank.R4>([...filterShape]);
    new Float32Array(h.memory.buffer, h.address(out), inChannels * outChannels).set(sums);
    return out;
  } finally {
    acc.dispose();
  }
}
