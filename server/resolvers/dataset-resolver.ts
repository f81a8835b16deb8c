import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { RegisterDatasetInput } from '../../schema/inputs';
import { Dataset } from '../../schema/types';
import type { GraphQLContext } from '../services';

@Resolver(() => Dataset)
export class DatasetResolver {
  @Query(() => [Dataset])
  datasets(@Arg('projectId', () => ID, { nullable: true }) projectId: string | null, @Ctx() { services }: GraphQLContext) {
    return services.datasets.list(projectId);
  }

  @Mutation(() => Dataset, { description: 'Reads the dataset\'s shape from its files and carves the seeded search hold-out.' })
  registerDataset(@Arg('input', () => RegisterDatasetInput) input: RegisterDatasetInput, @Ctx() { services }: GraphQLContext) {
    return services.datasets.register(input);
  }
}
