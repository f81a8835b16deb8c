/**
 * Registers the training kernels the wasm backend lacks or runs slowly. Idempotent: a kernel
 * already registered for wasm (the shipped naive Conv2DBackpropInput and copying Identity, or
 * ours from an earlier call) is replaced at most once per process.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's CommonJS build registers no gradients; the union package's build registers them all.
import '@tensorflow/tfjs';
import { conv2dBackpropKernels } from './conv2d_backprop';
import { depthwiseBackpropKernels } from './depthwise_backprop';
import { identityKernel } from './identity';

const TRAINING_KERNELS: readonly tf.KernelConfig[] = [...conv2dBackpropKernels, ...depthwiseBackpropKernels, identityKernel];

let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
  }
  registered = true;
}
