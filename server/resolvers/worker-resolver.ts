import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { Executor, Job, Worker } from '../../schema/types';
import type { WorkerView } from '../services/job-service';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => Worker)
export class WorkerResolver {
  @Access('READ')
  @Query(() => [Worker], { description: 'Workers that registered with this server, most recently seen first.' })
  workers(@Arg('online', () => Boolean, { nullable: true, description: 'Only online (true) or offline (false) workers.' }) online: boolean | null, @Ctx() { services }: GraphQLContext) {
    return services.jobs.workers(online);
  }

  @FieldResolver(() => [Executor])
  executors(@Root() worker: WorkerView, @Ctx() { services }: GraphQLContext) {
    return services.jobs.executorsOf(worker.id);
  }

  @FieldResolver(() => [Job], { description: 'The jobs it is running now.' })
  currentJobs(@Root() worker: WorkerView, @Ctx() { services, caller }: GraphQLContext) {
    return services.jobs.runningOn(caller, worker.id);
  }
}
