import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CreateProjectInput } from '../../schema/inputs';
import { Dataset, Project, SearchSpace, Supernet } from '../../schema/types';
import type { Project as ProjectEntity } from '../entities';
import type { GraphQLContext } from '../services';

@Resolver(() => Project)
export class ProjectResolver {
  @Query(() => [Project])
  projects(@Ctx() { services }: GraphQLContext) {
    return services.projects.list();
  }

  @Query(() => Project)
  project(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext) {
    return services.projects.get(id);
  }

  @Mutation(() => Project)
  createProject(@Arg('input', () => CreateProjectInput) input: CreateProjectInput, @Ctx() { services }: GraphQLContext) {
    return services.projects.create(input);
  }

  @FieldResolver(() => [Dataset])
  datasets(@Root() project: ProjectEntity, @Ctx() { services }: GraphQLContext) {
    return services.datasets.list(project.id);
  }

  @FieldResolver(() => [SearchSpace])
  searchSpaces(@Root() project: ProjectEntity, @Ctx() { services }: GraphQLContext) {
    return services.searchSpaces.list(project.id);
  }

  @FieldResolver(() => [Supernet])
  supernets(@Root() project: ProjectEntity, @Ctx() { services }: GraphQLContext) {
    return services.supernets.list({ projectId: project.id });
  }
}
