import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { searchSplit } from '../../executors/data/split';
import { RegisterDatasetInput } from '../../schema/inputs';
import { Artifact, Dataset, DatasetNormalizationType, RegistrationProgressType } from '../../schema/types';
import type { RegistrationProgress } from '../services/dataset-service';
import { uuid } from '../validation';
import { Dataset as DatasetEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => Dataset)
export class DatasetResolver {
  @Access('READ')
  @Query(() => [Dataset])
  datasets(@Arg('projectId', () => ID, { nullable: true }) projectId: string | null, @Ctx() { services, caller }: GraphQLContext) {
    return services.datasets.list(caller, projectId);
  }

  @Access('WRITE')
  @Mutation(() => Dataset, { description: 'Reads the dataset\'s shape from its files and carves the seeded search hold-out.' })
  registerDataset(@Arg('input', () => RegisterDatasetInput) input: RegisterDatasetInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.datasets.register(caller, input);
  }

  @Access('READ')
  @Subscription(() => RegistrationProgressType, {
    description: 'Progress of the project\'s dataset registrations while their files are read (headers, then statistics); registerDataset answers when it is done.',
    topics: 'DATASET_REGISTRATION',
    topicId: ({ args }) => uuid('projectId', (args as { projectId: string }).projectId),
    filter: async ({ payload, context }: { payload: RegistrationProgress; context: GraphQLContext }) => (await context.caller.roleIn(payload.projectId)) !== null,
  })
  datasetRegistration(@Root() progress: RegistrationProgress, @Arg('projectId', () => ID) _projectId: string): RegistrationProgress {
    return progress;
  }

  // The stored path stays on the server (executors read it); a client sees only the folder's name.
  @FieldResolver(() => String, {
    nullable: true,
    description: 'The name of the folder the files are in (`uploads/<id>` for an uploaded dataset); null for SYNTHETIC. Where it is on the server is not shown.',
  })
  folder(@Root() dataset: DatasetEntity, @Ctx() { services }: GraphQLContext): string | null {
    return services.datasets.shownFolder(dataset);
  }

  @FieldResolver(() => Artifact, { nullable: true, description: 'The sample manifest (JSON): every sample\'s file or record, label, split and size; null for SYNTHETIC.' })
  async manifest(@Root() dataset: DatasetEntity, @Ctx() { services }: GraphQLContext) {
    return (await services.orm.em.fork().findOneOrFail(DatasetEntity, dataset.id, { populate: ['manifest'] })).manifest;
  }

  @FieldResolver(() => DatasetNormalizationType, { nullable: true, description: 'Per-channel mean and deviation images are normalized with; null for SYNTHETIC (computed by each job).' })
  normalization(@Root() dataset: DatasetEntity): DatasetNormalizationType | null {
    const stats = dataset.normalization;
    return stats === null ? null : { mean: [...stats.channels.mean], std: [...stats.channels.std], images: stats.images };
  }

  @FieldResolver(() => [Int], { description: 'Training-image indices held out for the search, ascending; the seeded split reproduces them, splitDigest checks them.' })
  searchIndices(@Root() dataset: DatasetEntity): number[] {
    return Array.from(searchSplit(dataset.trainSize, dataset.searchFraction, dataset.splitSeed).searchIndices);
  }
}
