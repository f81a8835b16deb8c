import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CandidateOrderField, SortDirection } from '../../schema/enums';
import {
  CandidateFilter,
  CandidateOrder,
  CreateUniformCandidatesInput,
  ExportCandidateInput,
  ImportCandidateInput,
  RetrainCandidateInput,
} from '../../schema/inputs';
import { BaselineComparison, Candidate, CandidateConnection, IntervalType, Job, SearchSpace, SlimmingTrajectory, Supernet, TrainingRun } from '../../schema/types';
import type { Candidate as CandidateEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => Candidate)
export class CandidateResolver {
  @Access('READ')
  @Query(() => CandidateConnection, { description: 'The leaderboard: filtered, sorted, cursor-paginated.' })
  candidates(
    @Arg('filter', () => CandidateFilter, { defaultValue: {} }) filter: CandidateFilter,
    @Arg('orderBy', () => CandidateOrder, { defaultValue: { field: CandidateOrderField.MACS, direction: SortDirection.ASC } })
    orderBy: CandidateOrder,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.candidates.list(caller, filter, orderBy, first, after);
  }

  @Access('READ')
  @Query(() => Candidate)
  candidate(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.candidates.get(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => [Candidate], { description: 'Uniform width-multiplier baselines, the comparison AutoSlim must win.' })
  createUniformCandidates(
    @Arg('input', () => CreateUniformCandidatesInput) input: CreateUniformCandidatesInput,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.candidates.createUniform(caller, input);
  }

  @Access('WRITE')
  @Mutation(() => Candidate)
  importCandidate(@Arg('input', () => ImportCandidateInput) input: ImportCandidateInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.candidates.import(caller, input);
  }

  @Access('WRITE')
  @Mutation(() => [Job], { description: 'Queues one RETRAIN job (and training run) per seed, from scratch or fine-tuning from a supernet (init).' })
  retrainCandidate(@Arg('input', () => RetrainCandidateInput) input: RetrainCandidateInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.candidates.retrain(caller, input);
  }

  @Access('WRITE')
  @Mutation(() => Job, {
    description:
      'Queues an EXPORT job: the candidate as a standalone ONNX file with recalibrated BN, taking pixels in [0, 1] and normalizing them with the statistics of the dataset its weights were trained on (the supernet\'s, or the retraining run\'s), whichever dataset lends the calibration and test images. Its result names the artifact; download it from Artifact.downloadUrl.',
  })
  exportCandidate(@Arg('input', () => ExportCandidateInput) input: ExportCandidateInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.exports.exportCandidate(caller, input);
  }

  @FieldResolver(() => [TrainingRun])
  runs(@Root() candidate: CandidateEntity, @Ctx() { services }: GraphQLContext) {
    return services.candidates.runs(candidate.id);
  }

  @FieldResolver(() => IntervalType, {
    nullable: true,
    description:
      "Test top-1 retrained from scratch: the mean over seeds with its 95% t-interval (n = seeds; the latest finished run of a seed counts), over the runs of one protocol (dataset and recipe): that of the candidate's from-scratch run that finished last. Null before any has finished.",
  })
  retrainedTop1(@Root() candidate: CandidateEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.candidates.retrainedTop1(caller, candidate);
  }

  @FieldResolver(() => IntervalType, {
    nullable: true,
    description: "The same over retrainings fine-tuned from the candidate's slices of a supernet (retrainCandidate with init: SUPERNET), under the protocol of the fine-tuning that finished last.",
  })
  fineTunedTop1(@Root() candidate: CandidateEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.candidates.fineTunedTop1(caller, candidate);
  }

  @FieldResolver(() => BaselineComparison, {
    nullable: true,
    description: 'AUTOSLIM candidates: the verdict against the uniform baseline of the same budget. Null for other sources, or when no uniform candidate fits the budget.',
  })
  comparison(@Root() candidate: CandidateEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.candidates.comparison(caller, candidate);
  }

  @FieldResolver(() => SearchSpace)
  searchSpace(@Root() candidate: CandidateEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.get(caller, candidate.searchSpace.id);
  }

  @FieldResolver(() => SlimmingTrajectory, {
    nullable: true,
    description: 'AUTOSLIM: the first trajectory that found this configuration. Other trajectories may have picked it too: see SlimmingTrajectory.picks, or filter candidates by trajectoryId.',
  })
  trajectory(@Root() candidate: CandidateEntity, @Ctx() { services, caller }: GraphQLContext) {
    return candidate.trajectory ? services.slimming.getTrajectory(caller, candidate.trajectory.id) : null;
  }

  @FieldResolver(() => Supernet, { nullable: true, description: 'The supernet inheritedTop1 was measured from.' })
  inheritedFrom(@Root() candidate: CandidateEntity, @Ctx() { services, caller }: GraphQLContext) {
    return candidate.inheritedFrom ? services.supernets.get(caller, candidate.inheritedFrom.id) : null;
  }
}
