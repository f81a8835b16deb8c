/**
 * What takes a training step: this thread alone, or data-parallel replicas in worker threads.
 * The choice is made once per run, when the batch size is known (parallel/worker_count.ts).
 */
import type { NetworkGraph } from '../../autoslim/graph';
import { DataParallelStep } from './parallel/data_parallel_step';
import { ReplicaPool } from './parallel/replica_pool';
import { StepWork, WorkerChoice, WorkerOption, chooseWorkers } from './parallel/worker_count';
import type { NesterovSgd } from './sgd';
import type { SlimmableNetwork } from './supernet';
import { Batch, StepResult, StepSettings, trainStep } from './train_step';

export interface StepEngine {
  step(configs: readonly NetworkGraph[], batch: Batch, lr: number, settings: StepSettings, signal: AbortSignal): Promise<StepResult>;
  /** Stops whatever the engine started (worker threads). */
  dispose(): Promise<void>;
}

export class LocalStep implements StepEngine {
  constructor(
    private readonly network: SlimmableNetwork,
    private readonly optimizer: NesterovSgd,
  ) {}

  async step(configs: readonly NetworkGraph[], batch: Batch, lr: number, settings: StepSettings): Promise<StepResult> {
    return trainStep(this.network, this.optimizer, configs, batch, lr, settings);
  }

  async dispose(): Promise<void> {}
}

export interface StartedEngine {
  readonly engine: StepEngine;
  readonly choice: WorkerChoice;
}

/**
 * The engine `option` asks for. With 'auto', workers that fail to start fall back to this
 * thread (the reason says why); an explicit count fails instead.
 */
export async function startStepEngine(option: WorkerOption, network: SlimmableNetwork, optimizer: NesterovSgd, work: StepWork): Promise<StartedEngine> {
  const choice = chooseWorkers(option, work);
  if (choice.workers === 1) return { engine: new LocalStep(network, optimizer), choice };
  try {
    const pool = await ReplicaPool.start(choice.workers, { supernet: network.supernet, backend: work.backend });
    return { engine: new DataParallelStep(pool, network, optimizer), choice };
  } catch (err) {
    if (option !== 'auto') throw err;
    const reason = `workers failed to start (${err instanceof Error ? err.message : String(err)})`;
    return { engine: new LocalStep(network, optimizer), choice: { workers: 1, reason } };
  }
}
