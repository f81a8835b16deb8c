/**
 * The depthwise filter gradient (channel multiplier 1) as a WebAssembly SIMD kernel, four channels
 * per instruction. XNNPACK has no such kernel and the scalar JS loop ran at ≈ 2 ns per
 * multiply-add. It is assembled at first use (wasm_binary.ts) with a memory of its own, into which
 * x and dy are copied with their channels padded to whole vectors, so any width runs in SIMD.
 *
 * dW[i,j,c] = Σ_{n,p,q} x[n, p·sh+i−padTop, q·sw+j−padLeft, c] · dy[n,p,q,c]: for every output row
 * p and tap (i, j), the products along the row's valid columns are summed in float32 lanes, and
 * those short sums are accumulated in float64, so long reductions keep float32 accuracy.
 */
import type { ConvGeometry } from './conv_geometry';
import { Code, WasmMemory, accumulateF64, decrementWhileNonZero, doWhile, ifThen, increment, instantiateKernels, op, wasmApi } from './wasm_binary';

// Parameters, in call order.
const X = 0, DY = 1, ACC = 2, TAPS = 3, N = 4, H = 5, KH = 6, KW = 7, HO = 8, SH = 9, PAD_TOP = 10;
const CHANNEL_BYTES = 11, X_ROW_BYTES = 12, X_IMAGE_BYTES = 13, DY_ROW_BYTES = 14, DY_IMAGE_BYTES = 15;
const COLUMN_STEP_BYTES = 16, ACC_ROW_BYTES = 17, ACC_TAP_BYTES = 18;
const PARAMS = 19;
// i32 locals.
const B = 19, X_IMAGE = 20, DY_IMAGE = 21, P = 22, DY_ROW = 23, I = 24, ROW = 25, X_ROW = 26, J = 27, TAP = 28;
const ACC_TAP = 29, X_START = 30, DY_START = 31, C = 32, XI = 33, DI = 34, Q = 35, AP = 36;
const I32_LOCALS = 18;
// v128 local: the four lanes' running sum along one row.
const SUM = 37;

/** Per column tap j, 16 bytes: valid output columns, their first x column's and dy column's byte offsets. */
const TAP_BYTES = 16;

const { get, set, i32, add, sub, mul } = op;

function kernelBody(): Code {
  const rowSum = doWhile(
    [
      ...get(SUM), ...get(XI), ...op.v128Load(0), ...get(DI), ...op.v128Load(0), ...op.f32x4Mul, ...op.f32x4Add, ...set(SUM),
      ...increment(XI, get(COLUMN_STEP_BYTES)),
      ...increment(DI, get(CHANNEL_BYTES)),
    ],
    decrementWhileNonZero(Q),
  );
  const channelBlock = doWhile(
    [
      ...op.v128Zero, ...set(SUM),
      ...get(X_START), ...get(C), ...add, ...set(XI),
      ...get(DY_START), ...get(C), ...add, ...set(DI),
      ...get(TAP), ...op.loadI32(0), ...set(Q),
      ...rowSum,
      // float64 accumulators take twice the bytes of the float32 lanes they sum.
      ...get(ACC_TAP), ...get(C), ...add, ...get(C), ...add, ...set(AP),
      ...accumulateF64(AP, SUM),
      ...increment(C, i32(16)),
    ],
    [...get(C), ...get(CHANNEL_BYTES), ...op.ltS],
  );
  const columnTap = doWhile(
    [
      ...ifThen([...i32(0), ...get(TAP), ...op.loadI32(0), ...op.ltS], [
        ...get(X_ROW), ...get(TAP), ...op.loadI32(4), ...add, ...set(X_START),
        ...get(DY_ROW), ...get(TAP), ...op.loadI32(8), ...add, ...set(DY_START),
        ...i32(0), ...set(C),
        ...channelBlock,
      ]),
      ...increment(TAP, i32(TAP_BYTES)),
      ...increment(ACC_TAP, get(ACC_TAP_BYTES)),
      ...increment(J, i32(1)),
    ],
    [...get(J), ...get(KW), ...op.ltS],
  );
  const rowTap = doWhile(
    [
      ...get(P), ...get(SH), ...mul, ...get(I), ...add, ...get(PAD_TOP), ...sub, ...set(ROW),
      // Unsigned, a row above the image (negative) is as out of range as one below it.
      ...ifThen([...get(ROW), ...get(H), ...op.ltU], [
        ...get(X_IMAGE), ...get(ROW), ...get(X_ROW_BYTES), ...mul, ...add, ...set(X_ROW),
        ...i32(0), ...set(J),
        ...get(TAPS), ...set(TAP),
        ...get(ACC), ...get(I), ...get(ACC_ROW_BYTES), ...mul, ...add, ...set(ACC_TAP),
        ...columnTap,
      ]),
      ...increment(I, i32(1)),
    ],
    [...get(I), ...get(KH), ...op.ltS],
  );
  const outputRow = doWhile(
    [...i32(0), ...set(I), ...rowTap, ...increment(DY_ROW, get(DY_ROW_BYTES)), ...increment(P, i32(1))],
    [...get(P), ...get(HO), ...op.ltS],
  );
  const image = doWhile(
    [
      ...i32(0), ...set(P), ...get(DY_IMAGE), ...set(DY_ROW),
      ...outputRow,
      ...increment(X_IMAGE, get(X_IMAGE_BYTES)),
      ...increment(DY_IMAGE, get(DY_IMAGE_BYTES)),
      ...increment(B, i32(1)),
    ],
    [...get(B), ...get(N), ...op.ltS],
  );
  return [...i32(0), ...set(B), ...get(X), ...set(X_IMAGE), ...get(DY), ...set(DY_IMAGE), ...image];
}

interface Instance {
  readonly memory: WasmMemory;
  readonly run: (...args: number[]) => void;
}

let instance: Instance | null = null;

function compiled(): Instance {
  if (!instance) {
    const memory = new (wasmApi().Memory)({ initial: 1 });
    const kernel = { name: 'depthwiseFilterGradient', params: PARAMS, i32Locals: I32_LOCALS, v128Locals: 1, body: kernelBody() };
    instance = { memory, run: instantiateKernels([kernel], memory).depthwiseFilterGradient! };
  }
  return instance;
}

const PAGE = 65536;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Copies NHWC `source` with `channels` per pixel into `target` with `stride` per pixel. */
function copyPixels(source: Float32Array, channels: number, target: Float32Array, stride: number): void {
  if (stride === channels) {
    target.set(source);
    return;
  }
  for (let from = 0, to = 0; from < source.length; from += channels, to += stride) target.set(source.subarray(from, from + channels), to);
}

/** dW as [kh, kw, C] in float64 for NHWC x and dy of a depthwise conv with channel multiplier 1. */
export function depthwiseFilterGradientSimd(
  x: Float32Array,
  xShape: readonly [number, number, number, number],
  dy: Float32Array,
  kh: number,
  kw: number,
  g: ConvGeometry,
): Float64Array {
  const [n, h, w, channels] = xShape;
  const { outHeight: ho, outWidth: wo, strideWidth: sw, padLeft } = g;
  // Channels are padded to whole lanes; the padding lanes' sums are never read.
  const lanes = Math.ceil(channels / 4) * 4;
  const channelBytes = lanes * 4;
  const accOffset = align16(kw * TAP_BYTES);
  const xOffset = accOffset + kh * kw * lanes * 8;
  const dyOffset = xOffset + n * h * w * channelBytes;
  const end = dyOffset + n * ho * wo * channelBytes;
  const { memory, run } = compiled();
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
  const taps = new Int32Array(memory.buffer, 0, kw * 4);
  for (let j = 0; j < kw; j++) {
    const first = Math.max(0, Math.ceil((padLeft - j) / sw));
    const last = Math.min(wo, Math.floor((w - 1 + padLeft - j) / sw) + 1);
    taps.set([Math.max(0, last - first), (first * sw + j - padLeft) * channelBytes, first * channelBytes, 0], 4 * j);
  }
  const acc = new Float64Array(memory.buffer, accOffset, kh * kw * lanes);
  acc.fill(0);
  copyPixels(x, channels, new Float32Array(memory.buffer, xOffset, n * h * w * lanes), lanes);
  copyPixels(dy, channels, new Float32Array(memory.buffer, dyOffset, n * ho * wo * lanes), lanes);
  run(
    xOffset, dyOffset, accOffset, 0, n, h, kh, kw, ho, g.strideHeight, g.padTop,
    channelBytes, w * channelBytes, h * w * channelBytes, wo * channelBytes, ho * wo * channelBytes,
    sw * channelBytes, kw * lanes * 8, lanes * 8,
  );
  const out = new Float64Array(kh * kw * channels);
  for (let tap = 0; tap < kh * kw; tap++) out.set(acc.subarray(tap * lanes, tap * lanes + channels), tap * channels);
  return out;
}
