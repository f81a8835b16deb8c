import type { EntityManager } from '@mikro-orm/knex';
import type { JobKind } from '../../executors/contract';
import { JobState, ProjectRole } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { Executor, Job, JobAttempt, WorkerNode } from '../entities';
import { publishJob, type EventBus } from '../events';
import type { JobLedger } from '../jobs/ledger';
import { jobView, type JobView } from '../jobs/job-view';
import { queueJob, type NewJob } from '../jobs/new-job';
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

  /** Why a queued job is not running yet: no worker runs its kind, its device is offline, or every worker that could is busy. */
  async waitingReason(job: JobView): Promise<string | null> {
    if (job.state !== JobState.QUEUED) return null;
    const em = this.orm.em.fork();
    const capable = (await em.find(Executor, { online: true })).filter((e) => e.kinds.includes(job.kind));
    if (job.deviceFingerprint) {
      if (!capable.some((e) => e.latencyFingerprint === job.deviceFingerprint)) {
        return `its latency device (${job.deviceFingerprint.slice(0, 12)}…) has no online probe; it stays queued until that device's worker connects`;
      }
    } else if (capable.length === 0) {
      return `no online worker runs ${job.kind} jobs; it stays queued until one connects (slimlab worker)`;
    }
    const workerIds = [...new Set(capable.map((e) => e.workerId))];
    const workers = await em.find(WorkerNode, { id: { $in: workerIds } });
    const running = await em.find(Job, { state: JobState.RUNNING, workerId: { $in: workerIds } }, { fields: ['workerId'] });
    const free = workers.some((w) => running.filter((j) => j.workerId === w.id).length < w.concurrency);
    const ahead = await em.count(Job, { state: JobState.QUEUED, kind: job.kind, createdAt: { $lt: job.createdAt } });
    if (free) return ahead > 0 ? `${ahead} ${job.kind} job(s) queued before it` : null;
    return `all ${workers.length} worker(s) that run ${job.kind} jobs are busy; ${ahead} job(s) of its kind are queued before it`;
  }
}
