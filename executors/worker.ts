import { hostname } from 'node:os';
import type { ArtifactRef, BlobRef, JobContext, JobSpec, Logger } from './contract';
import type { RegisteredDatasetSpec } from './data/source';
import type { ClaimResponse, HeartbeatResponse, Outcome, RegisterRequest, RegisterResponse } from './protocol';
import type { ExecutorRegistry } from './registry';
import { ActiveJob, LeaseLost } from './remote/active-job';
import { ProtocolError } from './protocol-error';
import { GaveUp, ServerClient } from './remote/server-client';

/** How a worker moves bytes: artifacts up, blobs and datasets down (executors/remote/transfer). */
export interface WorkerTransfer {
  upload(job: ActiveJob, kind: string, name: string, data: Buffer): Promise<ArtifactRef>;
  read(ref: BlobRef): Promise<Buffer>;
  /** A local folder holding the dataset's files, checked against the server's manifest. */
  dataset(spec: RegisteredDatasetSpec): Promise<string>;
}

export interface WorkerOptions {
  /** Server replicas, tried in turn when one cannot be reached. */
  readonly servers: readonly string[];
  readonly token: string;
  readonly concurrency: number;
  readonly version: string;
  readonly log: Logger;
  readonly transfer: (client: ServerClient) => WorkerTransfer;
}

/** How long one claim request waits on the server for work before the worker asks again. */
const CLAIM_WAIT_MS = 20_000;

class CancelledByUser extends Error {}
class WorkerStopping extends Error {}

/**
 * Runs the registered executor plugins for a slimlab server it reaches only over HTTP: registers
 * them, claims jobs under leases (`concurrency` at a time), heartbeats, streams what the plugins
 * report, and finishes each job. On stop, running jobs are aborted and handed back to the queue
 * with their saved state.
 */
export class Worker {
  private readonly client: ServerClient;
  private readonly transfer: WorkerTransfer;
  private readonly running = new Map<string, ActiveJob>();
  private readonly slots: Promise<void>[] = [];
  private readonly stopping = new AbortController();
  private registration: RegisterResponse | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private beating = false;

  constructor(
    private readonly registry: ExecutorRegistry,
    private readonly options: WorkerOptions,
  ) {
    this.client = new ServerClient(options.servers, options.token, options.log);
    this.transfer = options.transfer(this.client);
  }

  get workerId(): string | null {
    return this.registration?.workerId ?? null;
  }

  async start(): Promise<void> {
    await this.register();
    for (const { plugin, capabilities } of this.registry.list()) {
      this.options.log.info(
        `executor ${plugin.name}: ${plugin.kinds.join(', ')} on ${capabilities.backend}/${capabilities.provider}` +
          (capabilities.note ? ` (${capabilities.note})` : ''),
      );
    }
    this.heartbeatTimer = setInterval(() => void this.beat(), this.registration!.heartbeatMs);
    for (let slot = 0; slot < this.options.concurrency; slot++) this.slots.push(this.runSlot());
  }

  /** Stops claiming, aborts running jobs (back to the queue, to resume from their saved state), and says goodbye. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const job of this.running.values()) job.controller.abort(new WorkerStopping('worker stopping'));
    await Promise.all(this.slots);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.registration) {
      // A stopping worker tries to say goodbye for a few seconds, not forever.
      const deadline = Date.now() + 5_000;
      await this.client
        .post('/goodbye', { workerId: this.registration.workerId }, { while: () => Date.now() < deadline, timeoutMs: 5_000 })
        .catch(() => undefined);
    }
  }

  private async register(): Promise<void> {
    const request: RegisterRequest = {
      host: hostname(),
      pid: process.pid,
      version: this.options.version,
      concurrency: this.options.concurrency,
      executors: this.registry.list().map(({ plugin, capabilities }) => ({ name: plugin.name, kinds: plugin.kinds, capabilities })),
    };
    this.registration = await this.client.post<RegisterResponse>('/register', request, { while: () => !this.stopping.signal.aborted, timeoutMs: 30_000 });
  }

  private async runSlot(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let claimed: ClaimResponse['job'];
      try {
        claimed = await this.claim();
      } catch (error) {
        if (error instanceof GaveUp) return;
        if (error instanceof ProtocolError && error.code === 'UNKNOWN_WORKER') {
          this.options.log.warn('the server does not know this worker (its database was reset?); registering again');
          await this.register().catch(() => undefined);
          continue;
        }
        this.options.log.warn(`claiming failed: ${describe(error)}`);
        await delay(1_000);
        continue;
      }
      // A finish can hand over the next waiting job, so a busy worker claims without a round trip.
      while (claimed) claimed = await this.execute(claimed);
    }
  }

  private async claim(): Promise<ClaimResponse['job']> {
    const answer = await this.client.post<ClaimResponse>(
      '/claim',
      { workerId: this.registration!.workerId, waitMs: CLAIM_WAIT_MS },
      { while: () => !this.stopping.signal.aborted, timeoutMs: CLAIM_WAIT_MS + 15_000, signal: this.stopping.signal },
    );
    return answer.job;
  }

  /** Runs a claimed job and reports how it ended; returns the next job the server handed over, if any. */
  private async execute({ spec, lease, executor }: NonNullable<ClaimResponse['job']>): Promise<ClaimResponse['job']> {
    const log = this.options.log;
    const job = new ActiveJob(lease, this.client, log);
    this.running.set(spec.id, job);
    const signal = job.controller.signal;
    const entry = this.registry.list().find((e) => e.plugin.name === executor);
    try {
      if (!entry) throw new Error(`this worker has no executor named ${executor}`);
      const result = await entry.plugin.run(await this.withLocalInputs(spec), this.context(job));
      return await this.settle(job, signal.aborted ? this.abortedOutcome(signal.reason) : { type: 'succeeded', result: result ?? null });
    } catch (error) {
      if (signal.aborted) return this.settle(job, this.abortedOutcome(signal.reason));
      if (error instanceof Error && error.stack) log.warn(`[job ${spec.id}] ${error.stack}`);
      return this.settle(job, { type: 'failed', error: describe(error) });
    } finally {
      this.running.delete(spec.id);
    }
  }

  private context(job: ActiveJob): JobContext {
    const log = this.options.log;
    return {
      signal: job.controller.signal,
      progress: (fraction, message) => job.push({ type: 'progress', fraction, ...(message === undefined ? {} : { message }) }),
      report: (event) => job.push({ type: 'event', event }),
      saveState: (state) => job.push({ type: 'state', state }),
      artifacts: {
        put: (kind, name, data) => this.transfer.upload(job, kind, name, data),
        read: (ref) => this.transfer.read(ref),
      },
      log: {
        info: (message) => log.info(`[job ${job.jobId}] ${message}`),
        warn: (message) => log.warn(`[job ${job.jobId}] ${message}`),
      },
    };
  }

  /** Datasets named by server path are fetched (or found under the dataset root) and named by local path. */
  private async withLocalInputs(spec: JobSpec): Promise<JobSpec> {
    const payload = spec.payload as { dataset?: RegisteredDatasetSpec } | null;
    const dataset = payload?.dataset;
    if (!dataset || dataset.format === 'SYNTHETIC') return spec;
    const uri = await this.transfer.dataset(dataset);
    return { ...spec, payload: { ...payload, dataset: { ...dataset, uri } } };
  }

  private abortedOutcome(reason: unknown): Outcome | null {
    if (reason instanceof LeaseLost) return null;
    if (reason instanceof WorkerStopping) return { type: 'released' };
    return { type: 'cancelled' };
  }

  /**
   * Reports how the job ended, unless its lease is gone (then another attempt owns the outcome),
   * and takes the next waiting job in the same answer unless this worker is stopping.
   */
  private async settle(job: ActiveJob, outcome: Outcome | null): Promise<ClaimResponse['job']> {
    if (!outcome || job.isLost) return null;
    const claimNext = this.stopping.signal.aborted || !this.registration ? null : { workerId: this.registration.workerId };
    try {
      return await job.finish(outcome, claimNext);
    } catch (error) {
      if (!(error instanceof LeaseLost)) this.options.log.warn(`[job ${job.jobId}] could not report its outcome: ${describe(error)}`);
      return null;
    }
  }

  private async beat(): Promise<void> {
    if (!this.registration || this.beating) return;
    this.beating = true;
    try {
      await this.beatOnce(this.registration);
    } finally {
      this.beating = false;
    }
  }

  private async beatOnce(registration: RegisterResponse): Promise<void> {
    const started = Date.now();
    const jobs = [...this.running.values()];
    for (const job of jobs) if (job.isLost) job.markLost();
    let answer: HeartbeatResponse;
    try {
      answer = await this.client.post<HeartbeatResponse>(
        '/heartbeat',
        { workerId: registration.workerId, leases: jobs.filter((j) => !j.isLost).map((j) => ({ jobId: j.jobId, token: j.token })) },
        { while: () => !this.stopping.signal.aborted && Date.now() < started + registration.heartbeatMs, timeoutMs: registration.heartbeatMs },
      );
    } catch (error) {
      if (!(error instanceof GaveUp)) this.options.log.warn(`heartbeat failed: ${describe(error)}`);
      return;
    }
    for (const status of answer.leases) {
      const job = this.running.get(status.jobId);
      if (!job) continue;
      if (status.status === 'lost') job.markLost();
      else {
        job.extend(status.expiresAt);
        if (status.status === 'cancel' && !job.controller.signal.aborted) job.controller.abort(new CancelledByUser('cancelled by user'));
      }
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
