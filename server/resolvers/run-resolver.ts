import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { TrainingProgressEvent } from '../events';
import { Artifact, MetricSeries, TrainingProgress, TrainingRun } from '../../schema/types';
import { TrainingRun as RunEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';
import { findInProject } from '../services/lookup';
import { ProjectRole } from '../../schema/enums';
import { uuid } from '../validation';

@Resolver(() => TrainingRun)
export class RunResolver {
  @Access('READ')
  @Query(() => TrainingRun)
  run(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return findInProject(services.orm.em.fork(), caller, ProjectRole.VIEWER, RunEntity, 'training run', 'id', id);
  }

  @Access('READ')
  @Query(() => [MetricSeries], { description: 'A run\'s metric history, downsampled to at most maxPoints points per key.' })
  runHistory(
    @Arg('runId', () => ID) runId: string,
    @Arg('keys', () => [String], { nullable: true, description: 'Default: every metric of the run.' }) keys: string[] | null,
    @Arg('maxPoints', () => Int, { defaultValue: 500 }) maxPoints: number,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.history.history(caller, runId, keys, maxPoints);
  }

  @FieldResolver(() => Artifact, { nullable: true, description: 'The latest checkpoint; a resumed run starts from it.' })
  async checkpoint(@Root() run: RunEntity, @Ctx() { services }: GraphQLContext) {
    return (await services.orm.em.fork().findOneOrFail(RunEntity, run.id, { populate: ['checkpoint'] })).checkpoint;
  }

  @FieldResolver(() => [String], { description: 'Names of the metrics this run has reported.' })
  metricKeys(@Root() run: RunEntity, @Ctx() { services }: GraphQLContext) {
    return services.history.keys(run.id);
  }

  @Access('READ')
  @Subscription(() => TrainingProgress, {
    description: 'Metrics of a training run as they are reported.',
    topics: 'TRAINING_PROGRESS',
    topicId: ({ args }) => uuid('runId', (args as { runId: string }).runId),
    // A run of a project the caller cannot see is silent, as one that does not exist is.
    filter: ({ args, context }: { args: { runId: string }; context: GraphQLContext }) => context.caller.mayRead(RunEntity, args.runId),
  })
  trainingProgress(@Root() event: TrainingProgressEvent, @Arg('runId', () => ID) _runId: string): TrainingProgressEvent {
    return event;
  }
}
