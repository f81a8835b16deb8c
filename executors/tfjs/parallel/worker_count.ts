/**
 * How many data-parallel workers a training run uses. wasm in Node runs one thread per
 * instance, so on a CPU the other cores are used only by replicas in worker threads; each
 * replica costs a message round trip and a weights copy per step, which pays only when a step
 * has enough compute to split.
 */
import { availableParallelism } from 'node:os';

/** A count of workers (1 = train in this thread), or 'auto'. */
export type WorkerOption = 'auto' | number;

export interface StepWork {
  /** The tfjs backend the training thread runs. */
  readonly backend: string;
  readonly batchSize: number;
  /** Forward multiply-accumulates of one step: every config of the step on the whole batch. */
  readonly macs: number;
}

export interface WorkerChoice {
  readonly workers: number;
  readonly reason: string;
}

/** Backends a worker thread can run a replica on (tfjs-node already uses every core). */
export const REPLICABLE_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/** Below this many images a shard's batch-norm statistics get noisy. */
export const MIN_SHARD_IMAGES = 16;

/**
 * Below this much compute per step, two workers gained under 20% on an idle 2-core machine
 * (mbv2-fmnist at 0.35× and batch 64: 125M MACs, 1.16×) and lost when other work shared the
 * cores; at 1.0× (600M MACs) they gained 1.5×.
 */
export const MIN_PARALLEL_STEP_MACS = 200e6;

export function parseWorkerOption(value: unknown): WorkerOption {
  if (value === 'auto' || (typeof value === 'number' && Number.isInteger(value) && value >= 1)) return value;
  throw new Error(`workers must be 'auto' or a positive integer, got ${JSON.stringify(value)}`);
}

/**
 * 'auto' uses one worker per core, as many as shards of at least MIN_SHARD_IMAGES fit in the
 * batch, when the backend can be replicated and the step is large enough; otherwise it trains
 * in this thread. A number is taken as asked (1 = this thread).
 */
export function chooseWorkers(option: WorkerOption, work: StepWork, cores = availableParallelism()): WorkerChoice {
  const replicable = REPLICABLE_BACKENDS.includes(work.backend);
  if (option !== 'auto') {
    parseWorkerOption(option);
    if (option > 1 && !replicable) throw new Error(`${option} data-parallel workers asked for, but backend '${work.backend}' cannot run in workers`);
    return { workers: option, reason: 'as configured' };
  }
  if (!replicable) return { workers: 1, reason: `backend '${work.backend}' runs its own threads` };
  if (cores < 2) return { workers: 1, reason: 'one core' };
  const workers = Math.min(cores, Math.floor(work.batchSize / MIN_SHARD_IMAGES));
  if (workers < 2) return { workers: 1, reason: `batch ${work.batchSize} is too small to split into shards of ${MIN_SHARD_IMAGES}` };
  if (work.macs < MIN_PARALLEL_STEP_MACS) {
    return { workers: 1, reason: `a step of ${(work.macs / 1e6).toFixed(1)}M MACs is too small to pay for workers` };
  }
  return { workers, reason: `auto: ${cores} cores, batch ${work.batchSize}` };
}
