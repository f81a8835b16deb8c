import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { ExecutorCapabilities, ExecutorEvent, JobKind, JobSpec, Logger } from '../../executors/contract';
import type { BrokerSignal, JobBroker } from '../../executors/worker';
import { JobState } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { Device, Executor, Job } from '../entities';
import { publishJob, type EventBus } from '../events';
import type { EventSink } from './event-sink';
import { jobView } from './job-view';
import { settleJobChange } from './settle';

/**
 * The in-process queue: the job table is the queue, so jobs survive restarts and a PostgreSQL
 * deployment can swap in pg-boss behind the same JobBroker interface. A claim is a conditional
 * update (QUEUED → RUNNING), so two workers can never run one job.
 */
export class DatabaseJobBroker implements JobBroker {
  private readonly signals = new EventEmitter();

  constructor(
    private readonly orm: Orm,
    private readonly bus: EventBus,
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {
    this.signals.setMaxListeners(0);
  }

  /** Tells local workers that a job was queued. */
  wake(): void {
    this.emit({ type: 'work' });
  }

  /** Tells local workers to abort a running job. */
  requestCancel(jobId: string): void {
    this.emit({ type: 'cancel', jobId });
  }

  onSignal(listener: (signal: BrokerSignal) => void): () => void {
    this.signals.on('signal', listener);
    return () => this.signals.off('signal', listener);
  }

  async registerExecutor(workerId: string, name: string, kinds: readonly JobKind[], caps: ExecutorCapabilities): Promise<void> {
    const em = this.orm.em.fork();
    const seen = {
      kinds: [...kinds],
      backend: caps.backend,
      provider: caps.provider,
      device: caps.device,
      versions: { ...caps.versions },
      note: caps.note ?? null,
      host: hostname(),
      pid: process.pid,
      lastSeenAt: new Date(),
      online: true,
    };
    const existing = await em.findOne(Executor, { workerId, name });
    if (existing) Object.assign(existing, seen);
    else em.create(Executor, { workerId, name, ...seen });
    if (caps.latencyDevice) {
      const { fingerprint, ...profile } = caps.latencyDevice;
      const device = await em.findOne(Device, { fingerprint });
      const fields = { ...profile, versions: { ...profile.versions }, lastSeenAt: new Date() };
      if (device) Object.assign(device, fields);
      else em.create(Device, { fingerprint, ...fields });
    }
    await em.flush();
  }

  async claim(workerId: string, executorName: string, kinds: readonly JobKind[], caps: ExecutorCapabilities): Promise<JobSpec | null> {
    const em = this.orm.em.fork();
    // A job bound to a device is only for the executor that measures on that device.
    const device = caps.latencyDevice ? [{ deviceFingerprint: caps.latencyDevice.fingerprint }] : [];
    for (;;) {
      const next = await em.findOne(
        Job,
        { state: JobState.QUEUED, kind: { $in: [...kinds] }, $or: [{ deviceFingerprint: null }, ...device] },
        { orderBy: { createdAt: 'asc', id: 'asc' } },
      );
      if (!next) return null;
      const now = new Date();
      const won = await em.nativeUpdate(
        Job,
        { id: next.id, state: JobState.QUEUED },
        {
          state: JobState.RUNNING,
          attempts: next.attempts + 1,
          workerId,
          executorName,
          backend: caps.backend,
          provider: caps.provider,
          device: caps.device,
          executorNote: caps.note ?? null,
          startedAt: now,
          heartbeatAt: now,
          finishedAt: null,
          error: null,
          progressMessage: null,
        },
      );
      if (won !== 1) continue;
      const job = await em.refreshOrFail(next);
      await settleJobChange(em, this.bus, job);
      return { id: job.id, kind: job.kind, attempt: job.attempts, payload: job.payload, resumeState: job.resumeState };
    }
  }

  async heartbeat(workerId: string, jobIds: readonly string[]): Promise<void> {
    const em = this.orm.em.fork();
    const now = new Date();
    await em.nativeUpdate(Executor, { workerId }, { lastSeenAt: now, online: true });
    if (jobIds.length > 0) await em.nativeUpdate(Job, { id: { $in: [...jobIds] }, state: JobState.RUNNING }, { heartbeatAt: now });
  }

  async progress(jobId: string, fraction: number, message: string | undefined): Promise<void> {
    await this.update(jobId, (job) => {
      job.progress = Math.min(1, Math.max(0, fraction));
      if (message !== undefined) job.progressMessage = message;
    });
  }

  async report(jobId: string, event: ExecutorEvent): Promise<void> {
    if (event.type === 'log') {
      this.log[event.level](`[job ${jobId}] ${event.message}`);
      return;
    }
    await this.sink.handle(jobId, event);
    // A latency-constrained candidate queues its measurement.
    if (event.type === 'candidate') this.wake();
  }

  async saveState(jobId: string, state: unknown): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Job, { id: jobId }, { resumeState: state as object });
  }

  async complete(jobId: string, result: unknown): Promise<void> {
    await this.finish(jobId, JobState.SUCCEEDED, (job) => {
      job.result = result;
      job.progress = 1;
    });
  }

  async fail(jobId: string, error: string): Promise<void> {
    this.log.warn(`[job ${jobId}] failed: ${error}`);
    await this.finish(jobId, JobState.FAILED, (job) => {
      job.error = error;
    });
  }

  async cancelled(jobId: string): Promise<void> {
    await this.finish(jobId, JobState.CANCELLED, (job) => {
      job.progressMessage = 'cancelled by user';
    });
  }

  async release(jobId: string): Promise<void> {
    await this.update(jobId, (job) => {
      job.state = JobState.QUEUED;
      job.workerId = null;
      job.progressMessage = 'requeued: its worker stopped before it finished';
    });
  }

  /**
   * Jobs left RUNNING by a worker that is gone (a killed server, a lost remote worker) are requeued
   * to resume from their saved state, or failed once they have used all their attempts.
   */
  async recoverAbandoned(isAbandoned: (job: Job) => boolean): Promise<number> {
    const em = this.orm.em.fork();
    const abandoned = (await em.find(Job, { state: JobState.RUNNING })).filter(isAbandoned);
    for (const job of abandoned) {
      const owner = job.workerId ?? 'unknown worker';
      if (job.attempts < job.maxAttempts) {
        job.state = JobState.QUEUED;
        job.progressMessage = `requeued: worker ${owner} stopped while running attempt ${job.attempts}`;
      } else {
        job.state = JobState.FAILED;
        job.finishedAt = new Date();
        job.error = `worker ${owner} stopped while running it, and all ${job.maxAttempts} attempts are used`;
      }
      job.workerId = null;
    }
    await em.flush();
    for (const job of abandoned) await settleJobChange(em, this.bus, job);
    if (abandoned.some((job) => job.state === JobState.QUEUED)) this.wake();
    return abandoned.length;
  }

  private async finish(jobId: string, state: JobState, mutate: (job: Job) => void): Promise<void> {
    await this.update(jobId, (job) => {
      job.state = state;
      job.finishedAt = new Date();
      job.workerId = null;
      mutate(job);
    });
  }

  private async update(jobId: string, mutate: (job: Job) => void): Promise<void> {
    const em = this.orm.em.fork();
    const job = await em.findOneOrFail(Job, jobId);
    const before = job.state;
    mutate(job);
    await em.flush();
    if (job.state !== before) await settleJobChange(em, this.bus, job);
    else publishJob(this.bus, jobView(job));
    if (job.state === JobState.QUEUED) this.wake();
  }

  private emit(signal: BrokerSignal): void {
    this.signals.emit('signal', signal);
  }
}

