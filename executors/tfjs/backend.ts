/**
 * Chooses the fastest TensorFlow.js backend that loads here, in order: tfjs-node-gpu (CUDA),
 * tfjs-node (libtensorflow CPU), wasm with slimlab's training kernels, plain cpu. The native
 * packages are optional: they download libtensorflow at install time, so they are required
 * dynamically and their absence is a normal outcome, not an error.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels';
import { REPLICABLE_BACKENDS } from './parallel/worker_count';

export interface BackendChoice {
  /** The tfjs backend name now active: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Which candidate ran and why the ones before it did not. */
  readonly reason: string;
}

interface Candidate {
  readonly label: string;
  /** Loads what the backend needs and returns its tfjs name; throws when unavailable. */
  load(): Promise<string>;
}

const NATIVE_BACKEND = 'tensorflow';

function nativePackage(pkg: string): Candidate {
  return {
    label: pkg,
    async load() {
      // A computed name keeps TypeScript from resolving a package that is normally absent.
      const moduleName: string = pkg;
      require(moduleName);
      return NATIVE_BACKEND;
    },
  };
}

const CANDIDATES: readonly Candidate[] = [
  nativePackage('@tensorflow/tfjs-node-gpu'),
  nativePackage('@tensorflow/tfjs-node'),
  {
    label: 'wasm',
    async load() {
      registerWasmTrainingKernels();
      return 'wasm';
    },
  },
  { label: 'cpu', load: async () => 'cpu' },
];

/** Activates the first backend that loads and initialises; logs one line saying which and why. */
export async function selectTrainingBackend(log: (line: string) => void): Promise<BackendChoice> {
  const skipped: string[] = [];
  for (const candidate of CANDIDATES) {
    try {
      const name = await candidate.load();
      if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise`);
      await tf.ready();
      const reason = skipped.length === 0 ? `${candidate.label} is the first choice` : `${candidate.label}; skipped ${skipped.join('; ')}`;
      log(`tfjs training backend: ${name} (${reason})`);
      return { backend: name, reason };
    } catch (err) {
      skipped.push(`${candidate.label}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${skipped.join('; ')}`);
}

/**
 * Activates `name`, a backend `selectTrainingBackend` chose in another thread, in this one: a
 * data-parallel replica runs on what the main thread runs on. Only the in-process backends can
 * be replicated; tfjs-node already uses every core and its addon is not loaded in workers.
 */
export async function activateReplicaBackend(name: string): Promise<void> {
  if (!REPLICABLE_BACKENDS.includes(name)) throw new Error(`backend '${name}' cannot run in a data-parallel worker`);
  if (name === 'wasm') registerWasmTrainingKernels();
  if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise in a worker`);
  await tf.ready();
}

function firstLine(err: unknown): string {
  // Errors from require() may come from another realm (e.g. under jest), so no instanceof.
  const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  return message.split('\n')[0]!;
}
