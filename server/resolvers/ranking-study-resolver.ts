import { Arg, Ctx, FieldResolver, Float, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { StudyRankingInput } from '../../schema/inputs';
import { Candidate, Dataset, IntervalType, Job, RankCorrelation, RankingStudy, RankingStudyConfig, Supernet } from '../../schema/types';
import { Dataset as DatasetEntity, type RankingStudy as StudyEntity, type RankingStudyConfig as StudyConfigEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => RankingStudy)
export class RankingStudyResolver {
  @Access('READ')
  @Query(() => RankingStudy)
  rankingStudy(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.rankingStudies.get(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => RankingStudy, {
    description:
      "Studies how well a supernet ranks configurations: picks sampledConfigs configurations spread over MACs (new SAMPLED candidates) besides the search space's UNIFORM candidates and the AUTOSLIM candidates its trajectories picked, and queues an EVALUATE job scoring them all from the supernet under both BN modes and a RETRAIN job per configuration and seed (reusing identical runs that have not failed).",
  })
  studyRanking(@Arg('input', () => StudyRankingInput) input: StudyRankingInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.rankingStudies.study(caller, input);
  }

  @FieldResolver(() => Supernet)
  supernet(@Root() study: StudyEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.get(caller, study.supernet.id);
  }

  @FieldResolver(() => Dataset, { description: "The supernet's dataset: the configurations are scored and retrained on it." })
  dataset(@Root() study: StudyEntity, @Ctx() { services }: GraphQLContext) {
    return services.orm.em.fork().findOneOrFail(DatasetEntity, study.dataset.id);
  }

  @FieldResolver(() => Job, { description: 'The EVALUATE job that scores every configuration from the supernet on the search hold-out.' })
  evaluationJob(@Root() study: StudyEntity, @Ctx() { services }: GraphQLContext) {
    return services.rankingStudies.evaluationJob(study);
  }

  @FieldResolver(() => [Job], { description: 'Every job the study waits on: its evaluation and the retraining of each (config, seed), reused runs included.' })
  jobs(@Root() study: StudyEntity, @Ctx() { services }: GraphQLContext) {
    return services.rankingStudies.waitedOn(study);
  }

  @FieldResolver(() => [RankingStudyConfig], { description: 'Cheapest first.' })
  configs(@Root() study: StudyEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.rankingStudies.configs(caller, study.id);
  }

  @FieldResolver(() => [RankCorrelation], { description: 'One per BN mode, from the scores and runs that have come in (final once complete).' })
  correlations(@Root() study: StudyEntity, @Ctx() { services }: GraphQLContext) {
    return services.rankingStudies.correlations(study.id);
  }

  @FieldResolver(() => Boolean, { description: 'The evaluation has succeeded and every retraining run of the study has finished.' })
  complete(@Root() study: StudyEntity, @Ctx() { services }: GraphQLContext) {
    return services.rankingStudies.complete(study);
  }
}

@Resolver(() => RankingStudyConfig)
export class RankingStudyConfigResolver {
  @FieldResolver(() => Candidate)
  candidate(@Root() config: StudyConfigEntity) {
    return config.candidate;
  }

  @FieldResolver(() => Float)
  macs(@Root() config: StudyConfigEntity) {
    return config.candidate.macs;
  }

  @FieldResolver(() => Float)
  params(@Root() config: StudyConfigEntity) {
    return config.candidate.params;
  }

  @FieldResolver(() => IntervalType, {
    nullable: true,
    description: "Mean test top-1 of the configuration's finished runs over the study's seeds, with its t-interval; null until one has finished.",
  })
  retrainedTop1(@Root() config: StudyConfigEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.rankingStudies.retrainedTop1(caller, config);
  }
}
