import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../executors/tfjs/kernels';
import { transpose2d } from '../../../executors/tfjs/kernels/transpose';
import { Rng } from '../../../executors/rng';

type Pad = 'same' | 'valid';

interface Case {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: Pad;
}

/** Every stride × padding × kernel combination, each with its own random (often odd) sizes. */
function cases(seed: number): Case[] {
  const rng = new Rng(seed);
  const out: Case[] = [];
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      for (const kernel of [1, 3]) {
        out.push({
          batch: 1 + rng.nextInt(3),
          height: kernel + 2 + rng.nextInt(6),
          width: kernel + 2 + rng.nextInt(6),
          channels: 1 + rng.nextInt(5),
          outChannels: 1 + rng.nextInt(5),
          kernel,
          stride,
          pad,
        });
      }
    }
  }
  return out;
}

function randomArray(rng: Rng, size: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.nextNormal());
}

/** Gradients of Σ(r ⊙ f(x, w)) with respect to x and w, computed on `backend`. */
async function gradientsOn(
  backend: string,
  f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  x: { shape: number[]; data: Float32Array },
  w: { shape: number[]; data: Float32Array },
  weightsSeed: number,
): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x.data, x.shape as [number, number, number, number]);
    const wt = tf.tensor4d(w.data, w.shape as [number, number, number, number]);
    const y = f(xt, wt);
    const r = tf.tensor(randomArray(new Rng(weightsSeed), y.size), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)))([xt, wt]);
    return [dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array] as [Float32Array, Float32Array];
  });
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}

async function expectSameGradients(
  f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  xShape: number[],
  wShape: number[],
  seed: number,
): Promise<void> {
  const rng = new Rng(seed);
  const x = { shape: xShape, data: randomArray(rng, xShape.reduce((a, b) => a * b, 1)) };
  const w = { shape: wShape, data: randomArray(rng, wShape.reduce((a, b) => a * b, 1)) };
  const [cpuDx, cpuDw] = await gradientsOn('cpu', f, x, w, seed + 1);
  const [wasmDx, wasmDw] = await gradientsOn('wasm', f, x, w, seed + 1);
  expect(relativeError(wasmDx, cpuDx)).toBeLessThan(1e-4);
  expect(relativeError(wasmDw, cpuDw)).toBeLessThan(1e-4);
}

const describeCase = (c: Case) =>
  `${c.batch}×${c.height}×${c.width}×${c.channels} k${c.kernel} s${c.stride} ${c.pad} → ${c.outChannels}`;

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('wasm training kernels match the cpu backend', () => {
  it('registers the missing gradients for wasm, idempotently', () => {
    registerWasmTrainingKernels();
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });

  it.each(cases(11).map((c, i) => [describeCase(c), c, i] as const))('conv2d %s', async (_, c, i) => {
    await expectSameGradients(
      (x, w) => tf.conv2d(x, w, c.stride, c.pad),
      [c.batch, c.height, c.width, c.channels],
      [c.kernel, c.kernel, c.channels, c.outChannels],
      100 + i,
    );
  });

  it.each(cases(12).flatMap((c, i) => [1, 2].map((m) => [`${describeCase(c)} ×${m}`, c, m, i] as const)))(
    'depthwise %s',
    async (_, c, multiplier, i) => {
      await expectSameGradients(
        (x, w) => tf.depthwiseConv2d(x, w, c.stride, c.pad),
        [c.batch, c.height, c.width, c.channels],
        [c.kernel, c.kernel, c.channels, multiplier],
        200 + 2 * i + multiplier,
      );
    },
  );

  it.each([
    ['SIMD kernel, one partial pixel chunk', [3, 5, 7, 16], 24],
    ['SIMD kernel, a full and a partial chunk', [2, 9, 10, 8], 16],
    ['SIMD kernel, more input than output channels', [2, 8, 4, 48], 8],
    ['matMul, blocked transpose of x', [2, 8, 4, 42], 36],
    ['matMul, blocked transpose of dy', [2, 8, 4, 33], 44],
  ] as const)('1×1 conv2d filter gradient: %s', async (_, xShape, cout) => {
    await expectSameGradients((x, w) => tf.conv2d(x, w, 1, 'same'), [...xShape], [1, 1, xShape[3], cout], 310 + cout);
  });

  it.each([
    ['3×3 s2 same over whole SIMD lanes', [2, 9, 9, 8], 3, 2, 'same'],
    ['5×5 s1 valid over whole SIMD lanes', [2, 8, 7, 12], 5, 1, 'valid'],
  ] as const)('depthwise %s', async (_, xShape, kernel, stride, pad) => {
    await expectSameGradients((x, w) => tf.depthwiseConv2d(x, w, stride, pad), [...xShape], [kernel, kernel, xShape[3], 1], 320 + kernel);
  });

  it('conv2d with explicit numeric padding larger than needed', async () => {
    await expectSameGradients((x, w) => tf.conv2d(x, w, 2, 2), [2, 7, 6, 3], [3, 3, 3, 4], 300);
  });

  it('transposes tall matrices blockwise exactly as tf.transpose', async () => {
    await tf.setBackend('wasm');
    for (const shape of [[128, 40], [64, 33], [100, 40], [128, 8]] as const) {
      const x = tf.tensor2d(randomArray(new Rng(shape[0] + shape[1]), shape[0] * shape[1]), [...shape]);
      expect(Array.from(transpose2d(x).dataSync())).toEqual(Array.from(tf.transpose(x).dataSync()));
      x.dispose();
    }
  });

  it('Identity (tf.clone) shares its input data, and either tensor outlives the other', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const z = tf.clone(y);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    z.dispose();
  });

  it('does not free or leak the tensors it was given', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 6, 6, 3]);
    const w = tf.variable(tf.randomNormal([3, 3, 3, 1]));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => w.dataSync()).not.toThrow();
    expect(Number.isFinite(tf.sum(tf.add(x, w.sum())).dataSync()[0]!)).toBe(true);
    x.dispose();
    w.dispose();
  });
});
