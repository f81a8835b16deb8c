/**
 * Depthwise convolution gradients for the wasm backend, which has none: the input gradient is
 * composed from its fast XNNPACK depthwise forward conv, the filter gradient is a direct loop
 * (a WebAssembly SIMD kernel of our own for channel multiplier 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ConvGeometry, resolveGeometry, transposedConvolution, wrapInput } from './conv_geometry';
import { depthwiseFilterGradientSimd } from './depthwise_filter_simd';

type Shape4 = [number, number, number, number];

/**
 * dW[i,j,c,k] = Σ_{n,p,q} x[n, p·s+i−pad, q·s+j−pad, c] · dy[n,p,q,c·m+k], by direct loops rather
 * than tfjs ops: the batch-folded dilated depthwise conv measured slower than even a scalar loop
 * (XNNPACK runs depthwise kernels of Ho×Wo taps poorly), and per-tap products would copy x nine
 * times through wasm's scalar Slice. Multiplier 1, every MobileNet's, runs the SIMD kernel (≈ 9×
 * the scalar loop on mbv2-fmnist); other multipliers pair one x channel with strided dy channels,
 * which SIMD lanes cannot load, and take the scalar loop. Sums are float64 in both.
 */
function depthwiseFilterGradient(x: Float32Array, xShape: readonly number[], dy: Float32Array, filterShape: Shape4, g: ConvGeometry): Float64Array {
  const [kh, kw, , multiplier] = filterShape;
  if (multiplier === 1) return depthwiseFilterGradientSimd(x, xShape as Shape4, dy, kh, kw, g);
  return filterGradientAnyMultiplier(x, xShape, dy, filterShape, g);
}

function filterGradientAnyMultiplier(
  x: Float32Array,
  xShape: readonly number[],
  dy: Float32Array,
  filterShape: Shape4,
  g: ConvGeometry,
): Float64Array {
  const [kh, kw, channels, multiplier] = filterShape;
  const [n, h, w] = xShape as Shape4;
  const outChannels = channels * multiplier;
  const acc = new Float64Array(kh * kw * outChannels);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < g.outHeight; p++) {
      for (let q = 0; q < g.outWidth; q++) {
        const dyBase = ((b * g.outHeight + p) * g.outWidth + q) * outChannels;
        for (let i = 0; i < kh; i++) {
          const row = p * g.strideHeight + i - g.padTop;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = q * g.strideWidth + j - g.padLeft;
            if (col < 0 || col >= w) continue;
            const xBase = ((b * h + row) * w + col) * channels;
            const accBase = (i * kw + j) * outChannels;
            for (let c = 0; c < channels; c++) {
              const xv = x[xBase + c]!;
              for (let k = 0; k < multiplier; k++) acc[accBase + c * multiplier + k]! += xv * dy[dyBase + c * multiplier + k]!;
            }
          }
        }
      }
    }
  }
  return acc;
}

/** dx = zero-upsampled dy, depthwise-convolved with the flipped filter, summed over multipliers. */
function depthwiseInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, channels, multiplier] = filter.shape;
  const flipped = tf.reshape<tf.Rank.R4>(tf.reverse(filter, [0, 1]), [kh, kw, channels * multiplier, 1]);
  const perOutput = transposedConvolution(dy, g, (input, pad) => tf.depthwiseConv2d(input, flipped, 1, pad));
  if (multiplier === 1) return perOutput;
  const [n, h, w] = perOutput.shape;
  return tf.sum(tf.reshape(perOutput, [n, h, w, channels, multiplier]), 4);
}

const depthwiseBackpropFilter: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as tf.DepthwiseConv2dNativeBackpropFilterInputs;
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const g = resolveGeometry(tf.DepthwiseConv2dNativeBackpropFilter, x!.shape, a.filterShape, a, true);
  const wasm = backend as BackendWasm;
  // Allocate the output before taking heap views: allocation may grow (and detach) the heap.
  const out = wasm.makeOutput(a.filterShape, 'float32');
  const grad = depthwiseFilterGradient(
    wasm.typedArrayFromHeap(x!) as Float32Array,
    x!.shape,
    wasm.typedArrayFromHeap(dy!) as Float32Array,
    a.filterShape,
    g,
  );
  (wasm.typedArrayFromHeap(out) as Float32Array).set(grad);
  return out;
};

const depthwiseBackpropInput: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as tf.DepthwiseConv2dNativeBackpropInputInputs;
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const g = resolveGeometry(tf.DepthwiseConv2dNativeBackpropInput, a.inputShape, filter!.shape, a, true);
  return tf.tidy(() => depthwiseInputGradient(wrapInput(dy!, backend as tf.KernelBackend), wrapInput(filter!, backend as tf.KernelBackend), g));
};

export const depthwiseBackpropKernels: readonly tf.KernelConfig[] = [
  { kernelName: tf.DepthwiseConv2dNativeBackpropFilter, backendName: 'wasm', kernelFunc: depthwiseBackpropFilter },
  { kernelName: tf.DepthwiseConv2dNativeBackpropInput, backendName: 'wasm', kernelFunc: depthwiseBackpropInput },
];
