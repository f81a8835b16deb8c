import { randomBytes } from 'node:crypto';
import { type LockMode, NotFoundError } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { AutoSlimError } from '../../autoslim/errors';
import type { DeviceProfile, Logger, MetricSample } from '../../executors/contract';
import type { ClaimResponse, HeartbeatRequest, HeartbeatResponse, JobUpdate, Lease, LeaseStatus, Outcome, RegisterRequest, RegisterResponse } from '../../executors/protocol';
import { ProtocolError } from '../../executors/protocol-error';
import { AttemptOutcome, JobState } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { Artifact, Device, Executor, FINISHED_STATES, Job, JobAttempt, WorkerNode } from '../entities';
import { notFound, userError } from '../errors';
import { jobEvent, publishEvents, type BusEvent, type EventBus, type EventOutbox } from '../events';
import type { EventSink } from './event-sink';
import { jobView, type JobView } from './job-view';
import type { JobQueue, QueueTransition } from './queue';
import { refusal, settleResult } from './job-results';
import { refreshRetrainedFigures, syncRunStatus } from './settle';

export interface LedgerOptions {
  readonly leaseSeconds: number;
  /** How to lock a row for the rest of a transaction: PostgreSQL needs it to fence writes; SQLite serializes writers. */
  readonly rowLock: { lockMode?: LockMode };
  readonly log: Logger;
}

/** What a transaction publishes (staged in it, see EventOutbox) and does once it has committed. */
class Effects {
  readonly events: BusEvent[] = [];
  readonly after: (() => void)[] = [];

  publish(event: BusEvent): void {
    this.events.push(event);
  }

  /** The job's own change goes before the events it caused. */
  publishFirst(event: BusEvent): void {
    this.events.unshift(event);
  }

  then(effect: () => void): void {
    this.after.push(effect);
  }
}

/** The longest a claim waits for work before answering "nothing" (the worker asks again). */
const MAX_CLAIM_WAIT_MS = 30_000;
const FORGET_WORKERS_AFTER_MS = 24 * 3600 * 1000;
const MAX_CACHED_WORKERS = 1_000;
/** A waiting claim looks again this often even without a wake-up, in case one was missed. */
const CLAIM_RECHECK_MS = 2_000;

/**
 * The job lifecycle as the system of record sees it: workers register, claim jobs under leases,
 * heartbeat, report and finish; users cancel and retry; expired leases are reaped. Every write a
 * worker makes is fenced: it runs in a transaction that first locks the job row and checks the
 * caller still holds the current lease (attempt and token), so a worker presumed dead can neither
 * overwrite nor duplicate anything once its job has moved on. What subscribers see is published
 * with the transaction (see EventOutbox), never before it commits.
 */
export class JobLedger {
  private readonly waiters = new Set<() => void>();
  private readonly executorsByWorker = new Map<string, readonly Executor[]>();
  private readonly stopWork: () => void;

  constructor(
    private readonly orm: Orm,
    private readonly bus: EventBus,
    private readonly outbox: EventOutbox,
    private readonly queue: JobQueue,
    private readonly sink: EventSink,
    private readonly options: LedgerOptions,
  ) {
    const work = this.bus.subscribe('WORK');
    void (async () => {
      for await (const _ of work) this.wakeWaiters();
    })();
    this.stopWork = () => void work.return?.();
  }

  get leaseMs(): number {
    return this.options.leaseSeconds * 1000;
  }

  close(): void {
    this.stopWork();
    this.wakeWaiters();
  }

  /** Tells every claim waiting on any replica that a job may be claimable. */
  wake(jobId: string): void {
    this.bus.publish('WORK', { jobId });
  }

  async register(req: RegisterRequest): Promise<RegisterResponse> {
    const workerId = await this.transact(async (em) => {
      const worker = em.create(WorkerNode, {
        host: req.host,
        pid: req.pid,
        version: req.version,
        plugins: req.executors.map((e) => e.name),
        concurrency: req.concurrency,
      });
      for (const { name, kinds, capabilities: caps } of req.executors) {
        em.create(Executor, {
          workerId: worker.id,
          name,
          kinds: [...kinds],
          backend: caps.backend,
          provider: caps.provider,
          device: caps.device,
          versions: { ...caps.versions },
          note: caps.note ?? null,
          latencyFingerprint: caps.latencyDevice?.fingerprint ?? null,
          host: req.host,
          pid: req.pid,
          online: true,
        });
        if (caps.latencyDevice) await this.upsertDevice(em, caps.latencyDevice);
      }
      await em.flush();
      return worker.id;
    });
    // Frequent enough that a cancel reaches a running job within about two seconds.
    return { workerId, leaseSeconds: this.options.leaseSeconds, heartbeatMs: Math.min(2_000, Math.floor(this.leaseMs / 4)) };
  }

  /** A graceful stop: the worker is offline at once rather than when its heartbeat goes stale. */
  async goodbye(workerId: string): Promise<void> {
    const em = this.orm.em.fork();
    const now = new Date();
    if ((await em.nativeUpdate(WorkerNode, { id: workerId }, { stoppedAt: now })) === 0) throw unknownWorker(workerId);
    this.executorsByWorker.delete(workerId);
    await em.nativeUpdate(Executor, { workerId }, { online: false });
  }

  /**
   * Hands the worker one job that one of its executors runs (the first in its preference order),
   * waiting up to `waitMs` for one to be queued.
   */
  async claim(workerId: string, waitMs: number, abort?: AbortSignal): Promise<ClaimResponse> {
    const deadline = Date.now() + Math.min(Math.max(0, waitMs), MAX_CLAIM_WAIT_MS);
    const executors = await this.executorsOf(workerId);
    for (;;) {
      if (abort?.aborted) return { job: null };
      // Listen before looking, so a job queued between the look and the wait still wakes us.
      const woken = this.nextWake();
      const claimed = await this.tryClaim(workerId, executors);
      if (claimed) {
        woken.cancel();
        return { job: claimed };
      }
      const left = deadline - Date.now();
      if (left <= 0 || abort?.aborted) {
        woken.cancel();
        return { job: null };
      }
      await woken.wait(Math.min(left, CLAIM_RECHECK_MS), abort);
    }
  }

  async heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse> {
    const em = this.orm.em.fork();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.leaseMs);
    if ((await em.nativeUpdate(WorkerNode, { id: req.workerId }, { lastHeartbeatAt: now, stoppedAt: null })) === 0) throw unknownWorker(req.workerId);
    await em.nativeUpdate(Executor, { workerId: req.workerId }, { lastSeenAt: now, online: true });
    const leases: LeaseStatus[] = [];
    for (const { jobId, token } of req.leases) {
      const held = await em.nativeUpdate(Job, { id: jobId, leaseToken: token, state: JobState.RUNNING }, { heartbeatAt: now, leaseExpiresAt: expiresAt });
      if (held === 0) {
        leases.push({ jobId, status: 'lost' });
        continue;
      }
      await em.nativeUpdate(JobAttempt, { job: jobId, outcome: AttemptOutcome.RUNNING }, { leaseExpiresAt: expiresAt });
      const job = await em.findOneOrFail(Job, jobId, { fields: ['cancelRequested'] });
      leases.push({ jobId, status: job.cancelRequested ? 'cancel' : 'ok', expiresAt: expiresAt.toISOString() });
    }
    return { leases };
  }

  /** Applies a batch of progress, saved state and executor events, in order (metrics last), all or nothing. */
  async update(jobId: string, lease: { attempt: number; token: string }, updates: readonly JobUpdate[]): Promise<void> {
    await this.fenced(jobId, lease, async (em, job, effects) => {
      let progressed = false;
      // A batch's metric points are stored and published once per run: a trainer reporting every
      // step sends thousands of metrics events in one batch, and a subscriber's queue overflows
      // (crashing the server) past 1024 events published at once.
      const metrics = new Map<string, MetricSample[]>();
      for (const update of updates) {
        if (update.type === 'event' && update.event.type === 'metrics') {
          const points = metrics.get(update.event.runId) ?? [];
          for (const point of update.event.points) points.push(point);
          metrics.set(update.event.runId, points);
        } else if (update.type === 'progress') {
          job.progress = Math.min(1, Math.max(0, update.fraction));
          if (update.message !== undefined) job.progressMessage = update.message;
          progressed = true;
        } else if (update.type === 'state') {
          job.resumeState = update.state;
        } else if (update.event.type === 'log') {
          this.options.log[update.event.level === 'warn' ? 'warn' : 'info'](`[job ${job.id}] ${update.event.message}`);
        } else {
          const event = await this.sink.handle(em, job, update.event);
          if (event) effects.publish(event);
          // A latency-constrained candidate queues its measurement.
          if (update.event.type === 'candidate') effects.then(() => this.wake(job.id));
        }
      }
      for (const [runId, points] of metrics) {
        const event = await this.sink.handle(em, job, { type: 'metrics', runId, points });
        if (event) effects.publish(event);
      }
      await em.flush();
      if (progressed) effects.publish(jobEvent(jobView(job)));
    });
  }

  /** Fences an artifact upload before its body is read. */
  async checkLease(jobId: string, lease: { attempt: number; token: string }): Promise<void> {
    await this.fenced(jobId, lease, async () => undefined);
  }

  /** Records an uploaded blob as an artifact of the job's project, if the lease still holds. */
  async registerArtifact(
    jobId: string,
    lease: { attempt: number; token: string },
    kind: Artifact['kind'],
    name: string,
    blob: { uri: string; bytes: number; sha256: string },
  ): Promise<{ id: string; uri: string; bytes: number; sha256: string }> {
    return this.fenced(jobId, lease, async (em, job) => {
      const artifact = em.create(Artifact, { kind, name, project: job.project, ...blob });
      await em.flush();
      return { id: artifact.id, ...blob };
    });
  }

  /** Ends the job as its executor says; a success whose result the job cannot hold (see refusal) fails it instead. */
  async finish(jobId: string, lease: { attempt: number; token: string }, reported: Outcome): Promise<void> {
    await this.fenced(jobId, lease, async (em, job, effects) => {
      const now = new Date();
      const refused = reported.type === 'succeeded' ? refusal(job, reported.result) : null;
      const outcome: Outcome = refused ? { type: 'failed', error: refused } : reported;
      let transition: QueueTransition;
      switch (outcome.type) {
        case 'succeeded':
          Object.assign(job, { state: JobState.SUCCEEDED, result: outcome.result, progress: 1, finishedAt: now });
          transition = 'succeeded';
          for (const queued of await settleResult(em, this.queue, job, this.options.rowLock)) {
            effects.publish(jobEvent(jobView(queued)));
            effects.then(() => this.wake(queued.id));
          }
          break;
        case 'failed':
          Object.assign(job, { state: JobState.FAILED, error: outcome.error, finishedAt: now });
          this.options.log.warn(`[job ${job.id}] failed: ${outcome.error}`);
          transition = 'failed';
          break;
        case 'cancelled':
          Object.assign(job, { state: JobState.CANCELLED, progressMessage: 'cancelled by user', finishedAt: now });
          transition = 'cancelled';
          break;
        case 'released':
          Object.assign(job, { state: JobState.QUEUED, progressMessage: 'requeued: its worker stopped before it finished' });
          transition = 'released';
          effects.then(() => this.wake(job.id));
          break;
      }
      await em.nativeUpdate(
        JobAttempt,
        { job: job.id, attempt: job.attempts },
        { outcome: ATTEMPT_OUTCOME[outcome.type], endedAt: now, error: outcome.type === 'failed' ? outcome.error : null },
      );
      await this.endLease(em, job, transition, effects);
    });
  }

  /**
   * Jobs whose lease ran out (their worker died, hung or lost the network) go back to the queue
   * to resume from their saved state, or fail once they have used all their attempts. Only the
   * lease decides: a server starting up leaves alone a job that a live worker holds.
   */
  async reap(): Promise<number> {
    const now = new Date();
    // A RUNNING job without a lease was left by a version before leases: it has no live holder.
    const expiredWhere = { state: JobState.RUNNING, $or: [{ leaseExpiresAt: { $lt: now } }, { leaseExpiresAt: null }] };
    const candidates = await this.orm.em.fork().find(Job, expiredWhere, { fields: ['id', 'leaseToken'] });
    let reaped = 0;
    for (const { id, leaseToken } of candidates) {
      const done = await this.transact(async (em, effects) => {
        const job = await em.findOne(Job, { ...expiredWhere, id, leaseToken }, this.lock());
        if (!job) return false;
        const owner = job.workerId ?? 'unknown worker';
        const exhausted = job.attempts >= job.maxAttempts;
        if (exhausted) {
          Object.assign(job, {
            state: JobState.FAILED,
            finishedAt: now,
            error: `worker ${owner} stopped while running it, and all ${job.maxAttempts} attempts are used (its lease expired)`,
          });
        } else {
          Object.assign(job, { state: JobState.QUEUED, progressMessage: `requeued: worker ${owner} stopped while running attempt ${job.attempts} (its lease expired)` });
          effects.then(() => this.wake(job.id));
        }
        await em.nativeUpdate(JobAttempt, { job: job.id, attempt: job.attempts }, { outcome: AttemptOutcome.EXPIRED, endedAt: now });
        await this.endLease(em, job, exhausted ? 'exhausted' : 'expired', effects);
        return true;
      });
      if (done) reaped++;
    }
    const em = this.orm.em.fork();
    await em.nativeUpdate(Executor, { online: true, lastSeenAt: { $lt: new Date(now.getTime() - this.leaseMs) } }, { online: false });
    // Every worker start registers anew; those gone for a day are forgotten (their attempts keep the worker id).
    const forgotten = new Date(now.getTime() - FORGET_WORKERS_AFTER_MS);
    await em.nativeDelete(Executor, { online: false, lastSeenAt: { $lt: forgotten } });
    await em.nativeDelete(WorkerNode, { lastHeartbeatAt: { $lt: forgotten } });
    return reaped;
  }

  /**
   * A queued job is cancelled at once; a running one is flagged, its worker learns it from its next
   * heartbeat, and the job becomes CANCELLED when the executor has stopped.
   */
  async cancel(id: string): Promise<JobView> {
    return this.transact(async (em, effects) => {
      const job = await em.findOne(Job, id, this.lock());
      if (!job) throw notFound('id', 'job', id);
      if (FINISHED_STATES.includes(job.state)) {
        throw userError('FAILED_PRECONDITION', 'id', `job is already ${job.state} and cannot be cancelled`);
      }
      if (job.state === JobState.QUEUED) {
        Object.assign(job, { state: JobState.CANCELLED, finishedAt: new Date(), progressMessage: 'cancelled by user' });
        await syncRunStatus(em, job);
        await this.queue.settle(em, job, 'cancelled');
      } else {
        job.cancelRequested = true;
      }
      await em.flush();
      const view = jobView(job);
      effects.publish(jobEvent(view));
      return view;
    });
  }

  /** A failed or cancelled job goes back to the queue with its saved state, to resume from it. */
  async retry(id: string): Promise<JobView> {
    return this.transact(async (em, effects) => {
      const job = await em.findOne(Job, id, this.lock());
      if (!job) throw notFound('id', 'job', id);
      if (job.state !== JobState.FAILED && job.state !== JobState.CANCELLED) {
        throw userError('FAILED_PRECONDITION', 'id', `only FAILED or CANCELLED jobs can be retried; this one is ${job.state}`);
      }
      Object.assign(job, {
        state: JobState.QUEUED,
        error: null,
        finishedAt: null,
        cancelRequested: false,
        progressMessage: 'retry requested',
        maxAttempts: Math.max(job.maxAttempts, job.attempts + 1),
      });
      await syncRunStatus(em, job);
      await this.queue.settle(em, job, 'retried');
      await em.flush();
      const view = jobView(job);
      effects.publish(jobEvent(view));
      effects.then(() => this.wake(job.id));
      return view;
    });
  }

  private async tryClaim(workerId: string, executors: readonly Executor[]): Promise<ClaimResponse['job']> {
    for (const executor of executors) {
      const devices = executor.latencyFingerprint ? [executor.latencyFingerprint] : [];
      const claimed = await this.transact(async (em, effects) => {
        // A job the queue hands out whose row has moved on (cancelled meanwhile) is settled and skipped.
        for (let skipped = 0; skipped < 100; skipped++) {
          const id = await this.queue.reserve(em, executor.kinds, devices);
          if (!id) return null;
          const job = await em.findOne(Job, id, this.lock());
          if (!job || job.state !== JobState.QUEUED) {
            if (job && FINISHED_STATES.includes(job.state)) await this.queue.settle(em, job, TERMINAL[job.state as JobState]!);
            continue;
          }
          const now = new Date();
          const lease: Lease = {
            jobId: job.id,
            attempt: job.attempts + 1,
            token: randomBytes(24).toString('base64url'),
            expiresAt: new Date(now.getTime() + this.leaseMs).toISOString(),
          };
          Object.assign(job, {
            state: JobState.RUNNING,
            attempts: lease.attempt,
            workerId,
            executorName: executor.name,
            backend: executor.backend,
            provider: executor.provider,
            device: executor.device,
            executorNote: executor.note,
            startedAt: now,
            heartbeatAt: now,
            finishedAt: null,
            error: null,
            progressMessage: null,
            leaseToken: lease.token,
            leaseExpiresAt: new Date(lease.expiresAt),
          });
          em.create(JobAttempt, {
            job,
            attempt: lease.attempt,
            workerId,
            executorName: executor.name,
            claimedAt: now,
            leaseExpiresAt: new Date(lease.expiresAt),
          });
          await syncRunStatus(em, job);
          await em.flush();
          effects.publish(jobEvent(jobView(job)));
          return {
            spec: { id: job.id, kind: job.kind, attempt: job.attempts, payload: job.payload, resumeState: job.resumeState },
            lease,
            executor: executor.name,
          };
        }
        return null;
      });
      if (claimed) return claimed;
    }
    return null;
  }

  private async endLease(em: EntityManager, job: Job, transition: QueueTransition, effects: Effects): Promise<void> {
    Object.assign(job, { workerId: null, leaseToken: null, leaseExpiresAt: null });
    await syncRunStatus(em, job);
    await refreshRetrainedFigures(em, job, this.lock());
    await this.queue.settle(em, job, transition);
    await em.flush();
    effects.publishFirst(jobEvent(jobView(job)));
  }

  /** A worker's executors never change after it registered, so every claim after the first reads them from memory. */
  private async executorsOf(workerId: string): Promise<readonly Executor[]> {
    const known = this.executorsByWorker.get(workerId);
    if (known) return known;
    const em = this.orm.em.fork();
    const worker = await em.findOne(WorkerNode, workerId);
    if (!worker) throw unknownWorker(workerId);
    const executors = await em.find(Executor, { workerId });
    const ordered = worker.plugins.flatMap((name) => executors.filter((e) => e.name === name));
    if (this.executorsByWorker.size >= MAX_CACHED_WORKERS) this.executorsByWorker.clear();
    this.executorsByWorker.set(workerId, ordered);
    return ordered;
  }

  private async upsertDevice(em: EntityManager, profile: DeviceProfile): Promise<void> {
    const { fingerprint, ...fields } = profile;
    const device = await em.findOne(Device, { fingerprint });
    const seen = { ...fields, versions: { ...fields.versions }, lastSeenAt: new Date() };
    if (device) Object.assign(device, seen);
    else em.create(Device, { fingerprint, ...seen });
  }

  /** Runs `work` with the job row locked, only if `lease` is still the job's current lease. */
  private fenced<T>(jobId: string, lease: { attempt: number; token: string }, work: (em: EntityManager, job: Job, effects: Effects) => Promise<T>): Promise<T> {
    return this.transact(async (em, effects) => {
      const job = await em.findOne(Job, { id: jobId, state: JobState.RUNNING, attempts: lease.attempt, leaseToken: lease.token }, this.lock());
      if (!job) throw new ProtocolError('LEASE_LOST', `job ${jobId}: attempt ${lease.attempt} does not hold the job's lease (it expired, was finished, or was never this worker's)`);
      try {
        return await work(em, job, effects);
      } catch (error) {
        // The report names what this job cannot hold (an unknown artifact, a bad channel list) or is
        // not shaped like an event; anything else (the database) is the server's, and is retried.
        if (error instanceof AutoSlimError || error instanceof NotFoundError || error instanceof TypeError) {
          throw new ProtocolError('BAD_REQUEST', `job ${jobId}: the report was refused: ${error.message}`);
        }
        throw error;
      }
    });
  }

  /**
   * One transaction. Its events are staged in it (across replicas: written to the event log, so
   * they exist exactly when its rows commit); the rest of its effects run once it has committed.
   */
  private async transact<T>(work: (em: EntityManager, effects: Effects) => Promise<T>): Promise<T> {
    const effects = new Effects();
    const { result, unpublished } = await this.orm.em.fork().transactional(async (em) => {
      const result = await work(em, effects);
      return { result, unpublished: await this.outbox.stage(em, effects.events) };
    });
    publishEvents(this.bus, unpublished);
    for (const effect of effects.after) effect();
    return result;
  }

  private lock(): { lockMode?: LockMode } {
    return this.options.rowLock;
  }

  private nextWake(): { wait(ms: number, abort?: AbortSignal): Promise<void>; cancel(): void } {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    const cancel = () => void this.waiters.delete(wake);
    return {
      cancel,
      wait: async (ms, abort) => {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => wake();
        abort?.addEventListener('abort', onAbort, { once: true });
        await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        cancel();
      },
    };
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
    this.waiters.clear();
  }
}

const ATTEMPT_OUTCOME: Record<Outcome['type'], AttemptOutcome> = {
  succeeded: AttemptOutcome.SUCCEEDED,
  failed: AttemptOutcome.FAILED,
  cancelled: AttemptOutcome.CANCELLED,
  released: AttemptOutcome.RELEASED,
};

const TERMINAL: Partial<Record<JobState, QueueTransition>> = {
  [JobState.SUCCEEDED]: 'succeeded',
  [JobState.FAILED]: 'failed',
  [JobState.CANCELLED]: 'cancelled',
};

function unknownWorker(workerId: string): ProtocolError {
  return new ProtocolError('UNKNOWN_WORKER', `worker ${workerId} is not registered here; register again`);
}
