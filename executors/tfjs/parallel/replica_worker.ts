/**
 * Worker-thread entry of one data-parallel replica: its own tfjs engine and wasm instance, a
 * network mirroring the training thread's, and one answer per shard request with the shard's
 * gradients. It keeps no optimizer state: every request carries the current weights.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { activateReplicaBackend } from '../backend';
import { SlimmableNetwork } from '../supernet';
import { computeGradients } from '../train_step';
import { flattenGradients, writeWeights } from './flat_parameters';
import type { ReplicaInit, ReplicaMessage, ShardRequest } from './protocol';

function post(message: ReplicaMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function failure(err: unknown): ReplicaMessage {
  return err instanceof Error ? { type: 'error', message: err.message, stack: err.stack } : { type: 'error', message: String(err) };
}

function answer(network: SlimmableNetwork, request: ShardRequest): void {
  writeWeights(network.trainable, request.weights);
  const images = tf.tensor4d(request.images, [...request.imageShape]);
  const labels = tf.tensor1d(request.labels, 'int32');
  try {
    const { losses, grads } = computeGradients(network, request.configs, { images, labels }, request.settings);
    const flat = flattenGradients(network.trainable, grads);
    tf.dispose([...grads.values()]);
    post({ type: 'result', id: request.id, losses, grads: flat.data, present: flat.present }, [flat.data.buffer as ArrayBuffer]);
  } finally {
    tf.dispose([images, labels]);
  }
}

async function main(): Promise<void> {
  const init = workerData as ReplicaInit;
  await activateReplicaBackend(init.backend);
  // The seed is irrelevant: every request overwrites the weights.
  const network = new SlimmableNetwork(init.supernet, 0);
  parentPort!.on('message', (request: ShardRequest) => {
    try {
      answer(network, request);
    } catch (err) {
      post(failure(err));
    }
  });
  post({ type: 'ready' });
}

main().catch((err: unknown) => post(failure(err)));
