import type { ExecutorCapabilities, ExecutorEvent, ArtifactStore, JobKind, JobSpec, Logger } from './contract';
import type { ExecutorRegistry, RegisteredPlugin } from './registry';

/**
 * What a worker needs from the system of record. The server implements it over the database
 * in-process; a remote worker would implement it over the network. Claiming, heartbeats and
 * completion go through here, so the worker never knows where jobs are stored.
 */
export interface JobBroker {
  registerExecutor(workerId: string, name: string, kinds: readonly JobKind[], caps: ExecutorCapabilities): Promise<void>;
  /** Atomically moves one QUEUED job of these kinds to RUNNING for this worker, or returns null. */
  claim(workerId: string, executor: string, kinds: readonly JobKind[], caps: ExecutorCapabilities): Promise<JobSpec | null>;
  /** Extends the lease of running jobs and marks the worker alive. */
  heartbeat(workerId: string, jobIds: readonly string[]): Promise<void>;
  progress(jobId: string, fraction: number, message: string | undefined): Promise<void>;
  report(jobId: string, event: ExecutorEvent): Promise<void>;
  saveState(jobId: string, state: unknown): Promise<void>;
  complete(jobId: string, result: unknown): Promise<void>;
  fail(jobId: string, error: string): Promise<void>;
  cancelled(jobId: string): Promise<void>;
  /** The worker stops before the job finished (shutdown): the job goes back to the queue. */
  release(jobId: string): Promise<void>;
  /** Calls back when work may be available or a running job should be cancelled. */
  onSignal(listener: (signal: BrokerSignal) => void): () => void;
}

export type BrokerSignal = { readonly type: 'work' } | { readonly type: 'cancel'; readonly jobId: string };

export interface WorkerOptions {
  readonly workerId: string;
  readonly concurrency: number;
  readonly heartbeatMs: number;
  /** Polling interval when no signal arrives, e.g. jobs enqueued by another process. */
  readonly pollMs: number;
  readonly artifacts: ArtifactStore;
  readonly log: Logger;
}

class CancelledByUser extends Error {}
class WorkerStopping extends Error {}

/** Claims jobs for the registered plugins and runs them, at most `concurrency` at a time. */
export class Worker {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private stopped = true;
  private unsubscribe: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private refillRequested = false;

  constructor(
    private readonly registry: ExecutorRegistry,
    private readonly broker: JobBroker,
    private readonly options: WorkerOptions,
  ) {}

  async start(): Promise<void> {
    for (const { plugin, capabilities } of this.registry.list()) {
      await this.broker.registerExecutor(this.options.workerId, plugin.name, plugin.kinds, capabilities);
      this.options.log.info(
        `executor ${plugin.name}: ${plugin.kinds.join(', ')} on ${capabilities.backend}/${capabilities.provider}` +
          (capabilities.note ? ` (${capabilities.note})` : ''),
      );
    }
    this.stopped = false;
    this.unsubscribe = this.broker.onSignal((signal) => {
      if (signal.type === 'work') this.fill();
      else this.running.get(signal.jobId)?.controller.abort(new CancelledByUser('cancelled by user'));
    });
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.pollTimer = setInterval(() => this.fill(), this.options.pollMs);
    this.fill();
  }

  /** Stops claiming, aborts running jobs and hands them back to the queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const { controller } of this.running.values()) controller.abort(new WorkerStopping('worker stopping'));
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private fill(): void {
    if (this.filling) {
      this.refillRequested = true;
      return;
    }
    this.filling = true;
    void this.claimWhileCapacity()
      .catch((error: unknown) => this.options.log.warn(`claiming jobs failed: ${describe(error)}`))
      .finally(() => {
        this.filling = false;
        if (this.refillRequested) {
          this.refillRequested = false;
          this.fill();
        }
      });
  }

  private async claimWhileCapacity(): Promise<void> {
    let claimedAny = true;
    while (claimedAny && !this.stopped && this.running.size < this.options.concurrency) {
      claimedAny = false;
      for (const entry of this.registry.list()) {
        if (this.stopped || this.running.size >= this.options.concurrency) return;
        const job = await this.broker.claim(this.options.workerId, entry.plugin.name, entry.plugin.kinds, entry.capabilities);
        if (job) {
          claimedAny = true;
          this.launch(entry, job);
        }
      }
    }
  }

  private launch(entry: RegisteredPlugin, job: JobSpec): void {
    const controller = new AbortController();
    const done = this.execute(entry, job, controller.signal).finally(() => {
      this.running.delete(job.id);
      this.fill();
    });
    this.running.set(job.id, { controller, done });
  }

  private async execute(entry: RegisteredPlugin, job: JobSpec, signal: AbortSignal): Promise<void> {
    const { broker } = this;
    const log = this.options.log;
    try {
      const result = await entry.plugin.run(job, {
        signal,
        progress: (fraction, message) => broker.progress(job.id, fraction, message),
        report: (event) => broker.report(job.id, event),
        saveState: (state) => broker.saveState(job.id, state),
        artifacts: this.options.artifacts,
        log: {
          info: (message) => log.info(`[job ${job.id}] ${message}`),
          warn: (message) => log.warn(`[job ${job.id}] ${message}`),
        },
      });
      if (signal.aborted) await this.settleAborted(job.id, signal.reason);
      else await broker.complete(job.id, result ?? null);
    } catch (error) {
      if (signal.aborted) {
        await this.settleAborted(job.id, signal.reason);
      } else {
        if (error instanceof Error && error.stack) log.warn(`[job ${job.id}] ${error.stack}`);
        await broker.fail(job.id, describe(error));
      }
    }
  }

  private async settleAborted(jobId: string, reason: unknown): Promise<void> {
    if (reason instanceof WorkerStopping) await this.broker.release(jobId);
    else await this.broker.cancelled(jobId);
  }

  private async beat(): Promise<void> {
    try {
      await this.broker.heartbeat(this.options.workerId, [...this.running.keys()]);
    } catch (error) {
      this.options.log.warn(`heartbeat failed: ${describe(error)}`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
