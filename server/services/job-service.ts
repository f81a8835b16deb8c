import type { EntityManager } from '@mikro-orm/knex';
import type { JobKind } from '../../executors/contract';
import { JobState, ProjectRole } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { Executor, Job, JobAttempt, WorkerNode } from '../entities';
import { publishJob, type EventBus } from '../events';
import type { JobLedger } from '../jobs/ledger';
import { jobView, type JobView } from '../jobs/job-view';
import { queueJob, type NewJob } from '../jobs/new-job';
import { describeJobs, jobsAhead } from '../jobs/queue-place';
import type { JobQueue } from '../jobs/queue';
import * as check from '../validation';
import type { Caller } from '../auth/caller';
import { findInProject, inReadableProjects } from './lookup';

export const MAX_JOBS_PER_PAGE = 500;

/** A worker as the API shows it; `online` is derived from its heartbeat and the lease time. */
export interface WorkerView {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly plugins: string[];
  readonly concurrency: number;
  readonly startedAt: Date;
  readonly lastHeartbeatAt: Date;
  readonly stoppedAt: Date | null;
  readonly online: boolean;
}

/** What queues a job in a caller's transaction: the JobService, or the ledger's queue when a job's success queues the next. */
export type JobCreator = Pick<JobService, 'create'>;

export class JobService {
  private readonly places = new WeakMap<JobView, Promise<QueuePlace | null>>();

  constructor(
    private readonly orm: Orm,
    private readonly bus: EventBus,
    readonly queue: JobQueue,
    private readonly ledger: JobLedger,
  ) {}

  /** Adds and queues a job inside the caller's transaction; call `announce` once it has committed. */
  create(em: EntityManager, spec: NewJob): Promise<Job> {
    return queueJob(em, this.queue, spec);
  }

  /** Publishes a committed job and wakes the workers, in that order, so QUEUED is seen first. */
  announce(job: Job): JobView {
    const view = jobView(job);
    publishJob(this.bus, view);
    this.ledger.wake(job.id);
    return view;
  }

  async get(caller: Caller, id: string, need = ProjectRole.VIEWER): Promise<JobView> {
    return jobView(await findInProject(this.orm.em.fork(), caller, need, Job, 'job', 'id', id));
  }

  async list(caller: Caller, filter: { projectId?: string | null; state?: JobState | null; kind?: JobKind | null }, first: number): Promise<JobView[]> {
    check.integer('first', first, 1, MAX_JOBS_PER_PAGE);
    const where = await inReadableProjects(caller, 'filter.projectId', filter.projectId);
    if (filter.state) where.state = filter.state;
    if (filter.kind) where.kind = filter.kind;
    const jobs = await this.orm.em.fork().find(Job, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
    return jobs.map(jobView);
  }

  async cancel(caller: Caller, id: string): Promise<JobView> {
    return this.ledger.cancel((await this.get(caller, id, ProjectRole.EDITOR)).id);
  }

  async retry(caller: Caller, id: string): Promise<JobView> {
    return this.ledger.retry((await this.get(caller, id, ProjectRole.EDITOR)).id);
  }

  async workers(online: boolean | null): Promise<WorkerView[]> {
    const workers = await this.orm.em.fork().find(WorkerNode, {}, { orderBy: { lastHeartbeatAt: 'desc', id: 'asc' } });
    return workers.map((w) => this.workerView(w)).filter((w) => online == null || w.online === online);
  }

  async worker(id: string): Promise<WorkerView | null> {
    const worker = await this.orm.em.fork().findOne(WorkerNode, id);
    return worker && this.workerView(worker);
  }

  executorsOf(workerId: string): Promise<Executor[]> {
    return this.orm.em.fork().find(Executor, { workerId }, { orderBy: { name: 'asc' } });
  }

  /** The running jobs of a worker that the caller may see; a worker is shared, its jobs are not. */
  async runningOn(caller: Caller, workerId: string): Promise<JobView[]> {
    const where = { ...(await inReadableProjects(caller, 'projectId', null)), workerId, state: JobState.RUNNING };
    return (await this.orm.em.fork().find(Job, where, { orderBy: { startedAt: 'asc' } })).map(jobView);
  }

  attemptsOf(jobId: string): Promise<JobAttempt[]> {
    return this.orm.em.fork().find(JobAttempt, { job: jobId }, { orderBy: { attempt: 'asc' } });
  }

  private workerView(worker: WorkerNode): WorkerView {
    const fresh = Date.now() - worker.lastHeartbeatAt.getTime() < this.ledger.leaseMs;
    return {
      id: worker.id,
      host: worker.host,
      pid: worker.pid,
      version: worker.version,
      plugins: worker.plugins,
      concurrency: worker.concurrency,
      startedAt: worker.createdAt,
      lastHeartbeatAt: worker.lastHeartbeatAt,
      stoppedAt: worker.stoppedAt,
      online: fresh && worker.stoppedAt === null,
    };
  }

  /**
   * Where a QUEUED job stands: its place in the line of the online worker that would start it
   * soonest, and what it waits for; null for a job in any other state.
   */
  queuePlace(job: JobView): Promise<QueuePlace | null> {
    // A query asks for the place through up to three fields of the same job object.
    let place = this.places.get(job);
    if (!place) {
      place = this.findQueuePlace(job);
      this.places.set(job, place);
    }
    return place;
  }

  private async findQueuePlace(job: JobView): Promise<QueuePlace | null> {
    if (job.state !== JobState.QUEUED) return null;
    const em = this.orm.em.fork();
    const online = await em.find(Executor, { online: true });
    const capable = online.filter((e) => e.kinds.includes(job.kind) && (!job.deviceFingerprint || e.latencyFingerprint === job.deviceFingerprint));
    if (capable.length === 0) {
      return job.deviceFingerprint
        ? {
            position: null,
            waitingFor: `the latency probe of device ${job.deviceFingerprint.slice(0, 12)}… to come online`,
            reason: `its latency device (${job.deviceFingerprint.slice(0, 12)}…) has no online probe; it stays queued until that device's worker connects`,
          }
        : {
            position: null,
            waitingFor: `a worker that offers ${job.kind}`,
            reason: `no online worker runs ${job.kind} jobs; it stays queued until one connects (slimlab worker)`,
          };
    }
    const workers = await em.find(WorkerNode, { id: { $in: [...new Set(capable.map((e) => e.workerId))] } });
    const order = await em.transactional((tx) => this.queue.lineOrder(tx));
    const turns = new Map(order.map((id, turn) => [id, turn]));
    const rows = await em.find(Job, { state: JobState.QUEUED }, { fields: ['id', 'kind', 'deviceFingerprint'] });
    // A row the queue does not list (the two drifted apart; the claim follows the row and warns) comes last.
    const queued = rows.map((row) => ({ id: row.id, kind: row.kind, deviceFingerprint: row.deviceFingerprint ?? null, turn: turns.get(row.id) ?? order.length }));
    const own = queued.find((other) => other.id === job.id) ?? { id: job.id, kind: job.kind, deviceFingerprint: job.deviceFingerprint ?? null, turn: order.length };
    const running = await em.find(Job, { state: JobState.RUNNING, workerId: { $in: workers.map((w) => w.id) } }, { fields: ['workerId'] });
    const lines = workers.map((worker) => {
      const executors = worker.plugins.flatMap((name) => online.filter((e) => e.workerId === worker.id && e.name === name));
      return { ahead: jobsAhead(own, executors, queued) ?? [], free: running.filter((j) => j.workerId === worker.id).length < worker.concurrency };
    });
    const soonest = lines.reduce((best, line) => (line.ahead.length < best.ahead.length || (line.ahead.length === best.ahead.length && line.free) ? line : best));
    const free = lines.some((line) => line.free);
    const ahead = soonest.ahead.length > 0 ? `${describeJobs(soonest.ahead)} queued before it` : null;
    const busy = `all ${workers.length} worker(s) that run ${job.kind} jobs are busy`;
    const slot = workers.length === 1 ? `the worker that runs ${job.kind} jobs is busy` : `all ${workers.length} workers that run ${job.kind} jobs are busy`;
    return {
      position: soonest.ahead.length + 1,
      waitingFor: ahead ?? (free ? null : `a free slot: ${slot}`),
      reason: free ? ahead : `${busy}; ${ahead ?? 'no job is queued before it'}`,
    };
  }
}

/** Where a QUEUED job stands in the line. */
export interface QueuePlace {
  /** 1 when it is next; null when no online worker runs it. */
  readonly position: number | null;
  /** What it waits for, a phrase that follows "waiting for"; null when a free worker is about to start it. */
  readonly waitingFor: string | null;
  /** The same as a sentence, for waitingReason. */
  readonly reason: string | null;
}
