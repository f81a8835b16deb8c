/**
 * Identity for wasm without a copy. tf.customGrad (our batch norm and ReLU6) passes its inputs and
 * outputs through Identity, and the shipped wasm kernel copies every activation each time; the
 * cpu backend shares the data instead, which is all Identity promises.
 */
import * as tf from '@tensorflow/tfjs-core';

const identity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as tf.IdentityInputs;
  (backend as tf.KernelBackend).incRef(x!.dataId);
  return { dataId: x!.dataId, shape: x!.shape, dtype: x!.dtype };
};

export const identityKernel: tf.KernelConfig = { kernelName: tf.Identity, backendName: 'wasm', kernelFunc: identity };
