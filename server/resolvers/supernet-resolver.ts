import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { SupernetFilter, TrainSupernetInput } from '../../schema/inputs';
import { Artifact, Dataset, Job, RankingStudy, SearchSpace, SlimmingTrajectory, Supernet, TrainingRun } from '../../schema/types';
import { Dataset as DatasetEntity, TrainingRun as RunEntity, type Supernet as SupernetEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => Supernet)
export class SupernetResolver {
  @Access('READ')
  @Query(() => [Supernet])
  supernets(@Arg('filter', () => SupernetFilter, { defaultValue: {} }) filter: SupernetFilter, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.list(caller, filter);
  }

  @Access('READ')
  @Query(() => Supernet)
  supernet(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.get(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Creates a supernet and its training run, and queues a TRAIN_SUPERNET job.' })
  trainSupernet(@Arg('input', () => TrainSupernetInput) input: TrainSupernetInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.train(caller, input);
  }

  @FieldResolver(() => SearchSpace)
  searchSpace(@Root() supernet: SupernetEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.get(caller, supernet.searchSpace.id);
  }

  @FieldResolver(() => Dataset)
  dataset(@Root() supernet: SupernetEntity, @Ctx() { services }: GraphQLContext) {
    return services.orm.em.fork().findOneOrFail(DatasetEntity, supernet.dataset.id);
  }

  @FieldResolver(() => TrainingRun)
  run(@Root() supernet: SupernetEntity, @Ctx() { services }: GraphQLContext) {
    return services.orm.em.fork().findOneOrFail(RunEntity, supernet.run.id);
  }

  @FieldResolver(() => Artifact, { nullable: true, description: 'The latest checkpoint.' })
  async checkpoint(@Root() supernet: SupernetEntity, @Ctx() { services }: GraphQLContext) {
    return (await services.orm.em.fork().findOneOrFail(RunEntity, supernet.run.id, { populate: ['checkpoint'] })).checkpoint;
  }

  @FieldResolver(() => [SlimmingTrajectory])
  trajectories(@Root() supernet: SupernetEntity, @Ctx() { services }: GraphQLContext) {
    return services.slimming.listTrajectories(supernet.id);
  }

  @FieldResolver(() => [RankingStudy], { description: 'Its ranking-quality studies, oldest first.' })
  rankingStudies(@Root() supernet: SupernetEntity, @Ctx() { services }: GraphQLContext) {
    return services.rankingStudies.listForSupernet(supernet.id);
  }
}
