/**
 * Dense convolution gradients for the wasm backend, composed from its fast XNNPACK forward conv
 * and matMul: the shipped wasm Conv2DBackpropInput is a naive loop and Conv2DBackpropFilter is
 * missing altogether.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvGeometry, filterGradientPad, resolveGeometry, transposedConvolution, wrapInput } from './conv_geometry';
import { pointwiseFilterGradientApplies, pointwiseFilterGradientSimd } from './pointwise_filter_simd';
import { transpose2d } from './transpose';

type Shape4 = [number, number, number, number];

/**
 * dW[i,j,ci,co] = Σ_{n,p,q} x[n, p·s+i−pad, q·s+j−pad, ci] · dy[n,p,q,co]: a forward conv of x with
 * batch and channel axes swapped, dy as the filter and the stride as its dilation.
 */
function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: Shape4, g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, cin, cout] = filterShape;
  if (isPointwise(filterShape, g)) return pointwiseFilterGradient(tf.reshape(x, [-1, cin]), tf.reshape(dy, [-1, cout]), filterShape);
  const rows = filterGradientPad(kh, g.padTop, g.inHeight, g.outHeight, g.strideHeight);
  const cols = filterGradientPad(kw, g.padLeft, g.inWidth, g.outWidth, g.strideWidth);
  const grad = tf.conv2d(
    tf.transpose(x, [3, 1, 2, 0]),
    tf.transpose(dy, [1, 2, 0, 3]),
    1,
    [[0, 0], rows, cols, [0, 0]],
    'NHWC',
    [g.strideHeight, g.strideWidth],
  );
  const exact = grad.shape[1] === kh && grad.shape[2] === kw ? grad : tf.slice(grad, [0, 0, 0, 0], [cin, kh, kw, cout]);
  return tf.transpose(exact, [1, 2, 0, 3]);
}

/** A 1×1 stride-1 unpadded conv: every output pixel is one input pixel times the filter. */
function isPointwise([kh, kw]: Shape4, g: ConvGeometry): boolean {
  return kh === 1 && kw === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0;
}

/**
 * Xᵀ·dY over the N·H·W pixels where the SIMD kernel (pointwise_filter_simd.ts) cannot run. wasm's
 * matMul is fast only without transpose flags, so one operand is transposed explicitly; the other
 * becomes XNNPACK's weights, which it packs on every call (a fresh tensor misses its operator
 * cache) at a cost that grows with their columns. Transposing the operand with more channels and
 * packing the one with fewer measured ≈ 1.7× faster over mbv2-fmnist's 1×1 convs than always
 * transposing x.
 */
function pointwiseFilterGradient(x: tf.Tensor2D, dy: tf.Tensor2D, filterShape: Shape4): tf.Tensor4D {
  const [, , cin, cout] = filterShape;
  if (cin >= cout) return tf.reshape(tf.matMul(transpose2d(x), dy), filterShape);
  return tf.reshape(tf.transpose(tf.matMul(transpose2d(dy), x)), filterShape);
}

/** dx = the zero-upsampled dy convolved with the filter flipped in space and in/out swapped. */
function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  // A 1×1 filter is its own spatial flip; wasm's Reverse would copy it for nothing.
  const spatial = filter.shape[0] === 1 && filter.shape[1] === 1 ? filter : tf.reverse(filter, [0, 1]);
  const flipped = tf.transpose(spatial, [0, 1, 3, 2]);
  return transposedConvolution(dy, g, (input, pad) => tf.conv2d(input, flipped, 1, pad));
}

const conv2dBackpropFilter: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as tf.Conv2DBackpropFilterInputs;
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const g = resolveGeometry(tf.Conv2DBackpropFilter, x!.shape, a.filterShape, a, false);
  const [, , cin, cout] = a.filterShape;
  if (isPointwise(a.filterShape, g) && pointwiseFilterGradientApplies(cin, cout)) {
    return pointwiseFilterGradientSimd(x!, dy!, a.filterShape as [1, 1, number, number]);
  }
  return tf.tidy(() => conv2dFilterGradient(wrapInput(x!, backend as tf.KernelBackend), wrapInput(dy!, backend as tf.KernelBackend), a.filterShape, g));
};

const conv2dBackpropInput: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as tf.Conv2DBackpropInputInputs;
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const g = resolveGeometry(tf.Conv2DBackpropInput, a.inputShape, filter!.shape, a, false);
  return tf.tidy(() => conv2dInputGradient(wrapInput(dy!, backend as tf.KernelBackend), wrapInput(filter!, backend as tf.KernelBackend), g));
};

export const conv2dBackpropKernels: readonly tf.KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2dBackpropFilter },
  { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc: conv2dBackpropInput },
];
