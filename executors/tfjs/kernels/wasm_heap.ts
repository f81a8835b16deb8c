/**
 * Kernels of our own (wasm_binary.ts) that run on tfjs-wasm's heap in place: tensors are read and
 * written where tfjs keeps them, with no copies in or out.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelFunction, Kernels, WasmMemory, instantiateKernels } from './wasm_binary';

export interface TfjsHeap {
  readonly backend: BackendWasm;
  readonly memory: WasmMemory;
  /** `functions` compiled against this heap, once per heap and `family`. */
  kernels(family: string, functions: () => readonly KernelFunction[]): Kernels;
  /** The byte address of a tensor's data. */
  address(t: tf.TensorInfo): number;
  /** A new float32 tensor of `shape`, contents undefined. */
  output<R extends tf.Rank>(shape: number[]): tf.Tensor<R>;
}

let current: TfjsHeap | null = null;

function heapOf(backend: BackendWasm, memory: WasmMemory): TfjsHeap {
  const compiled = new Map<string, Kernels>();
  return {
    backend,
    memory,
    kernels(family, functions) {
      let kernels = compiled.get(family);
      if (!kernels) compiled.set(family, (kernels = instantiateKernels(functions(), memory)));
      return kernels;
    },
    address: (t) => backend.dataIdMap.get(t.dataId)!.memoryOffset,
    output: <R extends tf.Rank>(shape: number[]) => tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32'), backend) as tf.Tensor<R>,
  };
}

/** The active wasm backend's heap, or null on another backend or where its memory is out of reach. */
export function tfjsHeap(): TfjsHeap | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as BackendWasm;
  // Emscripten keeps the module's exports, its memory among them, under `asm`.
  const memory = (backend.wasm as unknown as { asm?: { memory?: WasmMemory } }).asm?.memory;
  if (!memory) return null;
  if (current?.memory !== memory) current = heapOf(backend, memory);
  return current;
}
