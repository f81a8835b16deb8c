import type { EntityManager } from '@mikro-orm/core';
import type { JobKind } from '../../executors/contract';
import { JobState } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { Executor, FINISHED_STATES, Job, Project } from '../entities';
import { userError, notFound } from '../errors';
import { publishJob, type EventBus } from '../events';
import type { DatabaseJobBroker } from '../jobs/database-broker';
import { jobView, type JobView } from '../jobs/job-view';
import { settleJobChange } from '../jobs/settle';
import * as check from '../validation';

export interface NewJob {
  readonly project: Project;
  readonly kind: JobKind;
  readonly payload: Record<string, unknown>;
  readonly subjectType: string;
  readonly subjectId: string;
}

export const MAX_JOBS_PER_PAGE = 500;

export class JobService {
  constructor(
    private readonly orm: Orm,
    private readonly bus: EventBus,
    private readonly broker: DatabaseJobBroker,
  ) {}

  /** Adds a job inside the caller's transaction; call `announce` once it has committed. */
  create(em: EntityManager, spec: NewJob): Job {
    return em.create(Job, { ...spec, state: JobState.QUEUED });
  }

  /** Publishes a committed job and wakes the workers, in that order, so QUEUED is seen first. */
  announce(job: Job): JobView {
    const view = jobView(job);
    publishJob(this.bus, view);
    this.broker.wake();
    return view;
  }

  async get(id: string): Promise<JobView> {
    const job = await this.orm.em.fork().findOne(Job, check.uuid('id', id));
    if (!job) throw notFound('id', 'job', id);
    return jobView(job);
  }

  async list(filter: { projectId?: string | null; state?: JobState | null; kind?: JobKind | null }, first: number): Promise<JobView[]> {
    check.integer('first', first, 1, MAX_JOBS_PER_PAGE);
    const where: Record<string, unknown> = {};
    if (filter.projectId) where.project = check.uuid('filter.projectId', filter.projectId);
    if (filter.state) where.state = filter.state;
    if (filter.kind) where.kind = filter.kind;
    const jobs = await this.orm.em.fork().find(Job, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
    return jobs.map(jobView);
  }

  /**
   * A queued job is cancelled at once; a running one is asked to stop through its AbortSignal and
   * becomes CANCELLED when its executor has stopped.
   */
  async cancel(id: string): Promise<JobView> {
    const em = this.orm.em.fork();
    const job = await em.findOne(Job, check.uuid('id', id));
    if (!job) throw notFound('id', 'job', id);
    if (FINISHED_STATES.includes(job.state)) {
      throw userError('FAILED_PRECONDITION', 'id', `job is already ${job.state} and cannot be cancelled`);
    }
    if (job.state === JobState.QUEUED) {
      const won = await em.nativeUpdate(
        Job,
        { id: job.id, state: JobState.QUEUED },
        { state: JobState.CANCELLED, finishedAt: new Date(), progressMessage: 'cancelled by user' },
      );
      if (won === 1) return this.publishFresh(em, job);
    }
    await em.nativeUpdate(Job, { id: job.id, state: JobState.RUNNING }, { cancelRequested: true });
    this.broker.requestCancel(job.id);
    return this.publishFresh(em, job);
  }

  /**
   * A failed or cancelled job goes back to the queue as it was, with its saved state, so it
   * resumes from its last checkpoint rather than from zero.
   */
  async retry(id: string): Promise<JobView> {
    const em = this.orm.em.fork();
    const job = await em.findOne(Job, check.uuid('id', id));
    if (!job) throw notFound('id', 'job', id);
    if (job.state !== JobState.FAILED && job.state !== JobState.CANCELLED) {
      throw userError('FAILED_PRECONDITION', 'id', `only FAILED or CANCELLED jobs can be retried; this one is ${job.state}`);
    }
    const won = await em.nativeUpdate(
      Job,
      { id: job.id, state: job.state },
      {
        state: JobState.QUEUED,
        error: null,
        finishedAt: null,
        cancelRequested: false,
        progressMessage: 'retry requested',
        maxAttempts: Math.max(job.maxAttempts, job.attempts + 1),
      },
    );
    if (won !== 1) throw userError('CONFLICT', 'id', 'the job changed state meanwhile; try again');
    const view = await this.publishFresh(em, job);
    this.broker.wake();
    return view;
  }

  /** Why a queued job is not running, when no online executor runs its kind. */
  async waitingReason(job: JobView): Promise<string | null> {
    if (job.state !== JobState.QUEUED) return null;
    const executors = await this.orm.em.fork().find(Executor, { online: true });
    if (executors.some((e) => e.kinds.includes(job.kind))) return null;
    return `no executor that runs ${job.kind} jobs is online; the job stays queued until one registers`;
  }

  private async publishFresh(em: EntityManager, job: Job): Promise<JobView> {
    return settleJobChange(em, this.bus, await em.refreshOrFail(job));
  }
}
