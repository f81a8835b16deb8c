/**
 * The full training state as one safetensors file: supernet weights (canonical names and
 * layouts, so the file doubles as a weights checkpoint), SGD momentum under `momentum.<name>`,
 * and the step and RNG state in the metadata — everything a resumed run needs to continue
 * exactly where the interrupted one stopped.
 */
import { Tensor as WeightTensor, decodeSafetensors, encodeSafetensors } from '../weights';
import { NesterovSgd } from './sgd';
import { SlimmableNetwork } from './supernet';

const MOMENTUM_PREFIX = 'momentum.';

export interface LoopState {
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** The state of the RNG that samples configs (see rng.ts). */
  readonly rngState: number;
}

export function encodeCheckpoint(network: SlimmableNetwork, optimizer: NesterovSgd, loop: LoopState): Buffer {
  const tensors = new Map<string, WeightTensor>(network.exportWeights());
  for (const [name, buffer] of optimizer.exportMomentum()) tensors.set(MOMENTUM_PREFIX + name, buffer);
  return encodeSafetensors(tensors, {
    architecture: network.supernet.architecture,
    step: String(loop.step),
    rng_state: String(loop.rngState),
  });
}

/** Restores `network` and `optimizer` in place and returns the loop state. */
export function decodeCheckpoint(file: Buffer, network: SlimmableNetwork, optimizer: NesterovSgd): LoopState {
  const { tensors, metadata } = decodeSafetensors(file);
  if (metadata.architecture !== network.supernet.architecture) {
    throw new Error(`checkpoint: architecture is '${metadata.architecture}', the network is '${network.supernet.architecture}'`);
  }
  const weights = new Map<string, WeightTensor>();
  const momentum = new Map<string, WeightTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(MOMENTUM_PREFIX)) momentum.set(name.slice(MOMENTUM_PREFIX.length), t);
    else weights.set(name, t);
  }
  network.importWeights(weights);
  optimizer.importMomentum(momentum);
  return { step: parseCount('step', metadata.step), rngState: parseCount('rng_state', metadata.rng_state) };
}

function parseCount(field: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new Error(`checkpoint: metadata ${field} must be a non-negative integer, got ${String(value)}`);
  }
  return n;
}
