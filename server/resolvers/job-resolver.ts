import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { JobFilter } from '../../schema/inputs';
import { Executor, Job, JobAttempt, Worker } from '../../schema/types';
import { Executor as ExecutorEntity } from '../entities';
import { ALL_JOBS } from '../events';
import type { JobView } from '../jobs/job-view';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';
import { uuid } from '../validation';

@Resolver(() => Job)
export class JobResolver {
  @Access('READ')
  @Query(() => [Job], { description: 'Newest first.' })
  jobs(
    @Arg('filter', () => JobFilter, { defaultValue: {} }) filter: JobFilter,
    @Arg('first', () => Int, { defaultValue: 100 }) first: number,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.jobs.list(caller, filter, first);
  }

  @Access('READ')
  @Query(() => Job)
  job(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.jobs.get(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Cancels a queued job at once; a running one is aborted and becomes CANCELLED when it stops.' })
  cancelJob(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.jobs.cancel(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Requeues a FAILED or CANCELLED job; it resumes from its last saved state.' })
  retryJob(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.jobs.retry(caller, id);
  }

  @Access('READ')
  @Query(() => [Executor])
  executors(@Ctx() { services }: GraphQLContext) {
    return services.orm.em.fork().find(ExecutorEntity, {}, { orderBy: { lastSeenAt: 'desc' } });
  }

  @FieldResolver(() => [JobAttempt], { description: 'Every lease of the job, oldest first: the worker, when, and how it ended.' })
  attemptHistory(@Root() job: JobView, @Ctx() { services }: GraphQLContext) {
    return services.jobs.attemptsOf(job.id);
  }

  @FieldResolver(() => Worker, { nullable: true, description: 'The worker running it now.' })
  worker(@Root() job: JobView, @Ctx() { services }: GraphQLContext) {
    return job.workerId ? services.jobs.worker(job.workerId) : null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'Why a QUEUED job is not running: no online worker runs its kind, its latency device is offline, or every capable worker is busy.',
  })
  async waitingReason(@Root() job: JobView, @Ctx() { services }: GraphQLContext) {
    return (await services.jobs.queuePlace(job))?.reason ?? null;
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description:
      'A QUEUED job\'s place in the line of the online worker that would start it soonest, 1 when it is next: workers ask their executors in preference order and each takes its oldest job (on PostgreSQL, oldest by when it was last queued, so a retried job may stand further back). Null when no online worker runs it, or it is not QUEUED.',
  })
  async queuePosition(@Root() job: JobView, @Ctx() { services }: GraphQLContext) {
    return (await services.jobs.queuePlace(job))?.position ?? null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'What a QUEUED job waits for, as a phrase: "a worker that offers EXPORT", "2 RETRAIN jobs queued before it", "a free slot: …"; null when it is not QUEUED or a free worker is about to start it.',
  })
  async waitingFor(@Root() job: JobView, @Ctx() { services }: GraphQLContext) {
    return (await services.jobs.queuePlace(job))?.waitingFor ?? null;
  }

  @Access('READ')
  @Subscription(() => Job, {
    description: 'Every change of a job: of one job, of a project\'s jobs, or (no argument) of all jobs.',
    topics: 'JOB_UPDATED',
    // Checks the arguments when the subscription starts; every job change arrives on one key.
    topicId: ({ args }) => {
      const { jobId, projectId } = args as { jobId?: string | null; projectId?: string | null };
      if (jobId) uuid('jobId', jobId);
      if (projectId) uuid('projectId', projectId);
      return ALL_JOBS;
    },
    filter: async ({ payload, args, context }: { payload: JobView; args: { jobId?: string | null; projectId?: string | null }; context: GraphQLContext }) =>
      (!args.jobId || payload.id === args.jobId) &&
      (!args.projectId || payload.projectId === args.projectId) &&
      (await context.caller.roleIn(payload.projectId)) !== null,
  })
  jobUpdated(
    @Root() job: JobView,
    @Arg('jobId', () => ID, { nullable: true }) _jobId: string | null,
    @Arg('projectId', () => ID, { nullable: true }) _projectId: string | null,
  ): JobView {
    return job;
  }
}
