import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { searchSplit } from '../../executors/data/split';
import { RegisterDatasetInput } from '../../schema/inputs';
import { Dataset } from '../../schema/types';
import type { Dataset as DatasetEntity } from '../entities';
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

  // The stored path stays on the server (executors read it); a client sees only the folder's name.
  @FieldResolver(() => String, {
    nullable: true,
    description: 'The name of the folder the files are in (`uploads/<id>` for an uploaded dataset); null for SYNTHETIC. Where it is on the server is not shown.',
  })
  folder(@Root() dataset: DatasetEntity, @Ctx() { services }: GraphQLContext): string | null {
    return services.datasets.shownFolder(dataset);
  }

  @FieldResolver(() => [Int], { description: 'Training-image indices held out for the search, ascending; the seeded split reproduces them, splitDigest checks them.' })
  searchIndices(@Root() dataset: DatasetEntity): number[] {
    return Array.from(searchSplit(dataset.trainSize, dataset.searchFraction, dataset.splitSeed).searchIndices);
  }
}
