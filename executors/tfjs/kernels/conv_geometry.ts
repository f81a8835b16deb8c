/**
 * Shared pieces of the convolution gradient kernels: reading kernel attributes into one
 * geometry, wrapping kernel inputs as tensors, and the zero-upsampling of an output gradient.
 */
import * as tf from '@tensorflow/tfjs-core';

type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The forward convolution a gradient kernel differentiates, resolved to concrete paddings. */
export interface ConvGeometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

export interface ForwardConvAttrs {
  readonly strides: number | [number, number];
  readonly pad: Pad;
  readonly dimRoundingMode?: Rounding;
  readonly dilations?: number | [number, number];
  readonly dataFormat?: 'NHWC' | 'NCHW';
}

export function resolveGeometry(
  kernelName: string,
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: ForwardConvAttrs,
  depthwise: boolean,
): ConvGeometry {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error(`${kernelName} (wasm): dataFormat 'NCHW' is not supported; the wasm forward conv only runs NHWC`);
  }
  const dilations = attrs.dilations ?? 1;
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error(`${kernelName} (wasm): dilations must be 1 in a gradient, got ${String(dilations)}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * A tensor over a kernel input. The wrapper takes its own reference on the data, so the enclosing
 * tidy may dispose it without freeing the caller's tensor (a bare wrapper would).
 */
export function wrapInput<R extends tf.Rank>(info: tf.TensorInfo, backend: tf.KernelBackend): tf.Tensor<R> {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor<R>;
}

/**
 * Places dy's rows and columns `stride` apart with zeros between them, so a stride-1 convolution
 * over the result sees the output gradient where the strided forward conv produced it.
 */
function zeroUpsample(dy: tf.Tensor4D, strideHeight: number, strideWidth: number): tf.Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * strideHeight, w * strideWidth, c]);
}

/**
 * Convolves the output gradient with the spatially flipped filter, which yields the input
 * gradient. `convolve` is the stride-1 forward conv (dense or depthwise) to use; rows and columns
 * that the explicit padding cannot reach (negative pads) are cut off by a contiguous slice.
 */
export function transposedConvolution(
  dy: tf.Tensor4D,
  g: ConvGeometry,
  convolve: (input: tf.Tensor4D, pad: tf.backend_util.ExplicitPadding) => tf.Tensor4D,
): tf.Tensor4D {
  const up = zeroUpsample(dy, g.strideHeight, g.strideWidth);
  const rows = edgePads(g.filterHeight, g.padTop, g.inHeight, up.shape[1]);
  const cols = edgePads(g.filterWidth, g.padLeft, g.inWidth, up.shape[2]);
  const cropped =
    rows.cropBegin === 0 && rows.keep === up.shape[1] && cols.cropBegin === 0 && cols.keep === up.shape[2]
      ? up
      : tf.slice(up, [0, rows.cropBegin, cols.cropBegin, 0], [-1, rows.keep, cols.keep, -1]);
  return convolve(cropped, [
    [0, 0],
    [rows.before, rows.after],
    [cols.before, cols.after],
    [0, 0],
  ]);
}

interface EdgePads {
  readonly before: number;
  readonly after: number;
  readonly cropBegin: number;
  readonly keep: number;
}

/** Padding of one spatial axis so that a stride-1 conv of `length` rows yields `inSize` rows. */
function edgePads(kernel: number, forwardPadBefore: number, inSize: number, length: number): EdgePads {
  const before = kernel - 1 - forwardPadBefore;
  const after = inSize + kernel - 1 - before - length;
  const cropBegin = Math.max(0, -before);
  const keep = length - cropBegin + Math.min(0, after);
  return { before: Math.max(0, before), after: Math.max(0, after), cropBegin, keep };
}

/** Padding that makes a dilated "filter-gradient" convolution produce at least `kernel` rows. */
export function filterGradientPad(kernel: number, forwardPadBefore: number, inSize: number, outSize: number, stride: number): [number, number] {
  return [forwardPadBefore, Math.max(0, kernel - inSize - forwardPadBefore + (outSize - 1) * stride)];
}
