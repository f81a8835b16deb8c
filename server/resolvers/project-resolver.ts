import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ProjectRole } from '../../schema/enums';
import { CreateProjectInput, SetProjectMemberInput } from '../../schema/inputs';
import { Dataset, Project, ProjectMember, SearchSpace, Supernet } from '../../schema/types';
import type { Project as ProjectEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => Project)
export class ProjectResolver {
  @Access('READ')
  @Query(() => [Project], { description: 'The projects the caller is a member of (every project for an admin).' })
  projects(@Ctx() { services, caller }: GraphQLContext) {
    return services.projects.list(caller);
  }

  @Access('READ')
  @Query(() => Project)
  project(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.projects.get(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => Project, { description: 'The caller becomes its owner.' })
  createProject(@Arg('input', () => CreateProjectInput) input: CreateProjectInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.projects.create(caller, input);
  }

  @Access('WRITE')
  @Mutation(() => Project, {
    description:
      'A demo project on synthetic images, and its pipeline run on the server: supernet training, slimming under two MACs budgets, matched uniform baselines, and a retraining of each; a few minutes on a 2-core CPU. The caller becomes its owner; it is named demo (demo-2, … when taken).',
  })
  startDemo(@Ctx() { services, caller }: GraphQLContext) {
    return services.demo.start(caller);
  }

  @Access('WRITE')
  @Mutation(() => ProjectMember, { description: 'Adds a member or changes their role; needs OWNER. A project keeps at least one owner.' })
  setProjectMember(@Arg('input', () => SetProjectMemberInput) input: SetProjectMemberInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.projects.setMember(caller, input.projectId, input.user, input.role);
  }

  @Access('WRITE')
  @Mutation(() => Boolean, { description: 'Removes a member; needs OWNER. False when the user was not a member.' })
  removeProjectMember(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('user', () => String, { description: 'The user\'s name.' }) user: string,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.projects.removeMember(caller, projectId, user);
  }

  @FieldResolver(() => [ProjectMember])
  members(@Root() project: ProjectEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.projects.members(caller, project.id);
  }

  @FieldResolver(() => ProjectRole, { description: 'The caller\'s role here (OWNER for admins and in local mode).' })
  async myRole(@Root() project: ProjectEntity, @Ctx() { caller }: GraphQLContext) {
    return caller.roleIn(project.id);
  }

  @FieldResolver(() => [Dataset])
  datasets(@Root() project: ProjectEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.datasets.list(caller, project.id);
  }

  @FieldResolver(() => [SearchSpace])
  searchSpaces(@Root() project: ProjectEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.list(caller, project.id);
  }

  @FieldResolver(() => [Supernet])
  supernets(@Root() project: ProjectEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.list(caller, { projectId: project.id });
  }
}
