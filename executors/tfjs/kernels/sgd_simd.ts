/**
 * One parameter's Nesterov SGD update as a WebAssembly SIMD kernel on tfjs-wasm's heap: a single
 * pass where tfjs ops take eight kernels (and an allocation each) per parameter, ≈ 700 a step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelFunction, decrementWhileNonZero, doWhile, increment, op } from './wasm_binary';
import { tfjsHeap } from './wasm_heap';

const { get, set, i32 } = op;

/**
 * nesterov(w, v, g, wOut, vOut, vectors, hyper): with lr, μ and wd at hyper, per value
 * g' = g + wd·w; v' = μ·v + g'; w' = w − lr·(g' + μ·v').
 */
function nesterovKernel(): KernelFunction {
  const [w, v, g, wOut, vOut, vectors, hyper] = [0, 1, 2, 3, 4, 5, 6];
  const offset = 7;
  const [lr, momentum, decay, wv, gv, vv] = [8, 9, 10, 11, 12, 13];
  const at = (base: number): number[] => [...get(base), ...get(offset), ...op.add];
  return {
    name: 'nesterov', params: 7, i32Locals: 1, v128Locals: 6,
    body: [
      ...get(hyper), ...op.f32Splat(0), ...set(lr),
      ...get(hyper), ...op.f32Splat(4), ...set(momentum),
      ...get(hyper), ...op.f32Splat(8), ...set(decay),
      ...i32(0), ...set(offset),
      ...doWhile(
        [
          ...at(w), ...op.v128Load(0), ...set(wv),
          ...at(g), ...op.v128Load(0), ...get(decay), ...get(wv), ...op.f32x4Mul, ...op.f32x4Add, ...set(gv),
          ...get(momentum), ...at(v), ...op.v128Load(0), ...op.f32x4Mul, ...get(gv), ...op.f32x4Add, ...set(vv),
          ...at(vOut), ...get(vv), ...op.v128Store(0),
          ...at(wOut), ...get(wv), ...get(lr), ...get(gv), ...get(momentum), ...get(vv), ...op.f32x4Mul, ...op.f32x4Add, ...op.f32x4Mul, ...op.f32x4Sub, ...op.v128Store(0),
          ...increment(offset, i32(16)),
        ],
        decrementWhileNonZero(vectors),
      ),
    ],
  };
}

/** Where the kernel runs: the wasm backend, a parameter of whole four-value vectors. */
export function nesterovStepApplies(size: number): boolean {
  return size % 4 === 0 && tfjsHeap() !== null;
}

export interface NesterovUpdate {
  readonly weight: tf.Tensor;
  readonly momentum: tf.Tensor;
  readonly grad: tf.Tensor;
  readonly decayed: boolean;
}

/** The updated weights and momenta of `updates` (all nesterovStepApplies), as new tensors. */
export function nesterovStepSimd(updates: readonly NesterovUpdate[], lr: number, momentum: number, weightDecay: number): [tf.Tensor, tf.Tensor][] {
  const h = tfjsHeap()!;
  const kernels = h.kernels('nesterov', () => [nesterovKernel()]);
  const hyper = tf.tensor1d([lr, momentum, weightDecay, lr, momentum, 0]);
  try {
    const decayed = h.address(hyper);
    return updates.map((u) => {
      const wOut = h.output(u.weight.shape);
      const vOut = h.output(u.weight.shape);
      const addresses = [u.weight, u.momentum, u.grad, wOut, vOut].map((t) => h.address(t));
      kernels.nesterov!(...addresses, u.weight.size / 4, u.decayed ? decayed : decayed + 12);
      return [wOut, vOut];
    });
  } finally {
    hyper.dispose();
  }
}
