import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CreateTokenInput, CreateUserInput } from '../../schema/inputs';
import { ApiToken, CreatedToken, ProjectMember, User } from '../../schema/types';
import { Access } from '../auth/policy';
import type { ApiToken as ApiTokenEntity, ProjectMember as ProjectMemberEntity } from '../entities';
import type { GraphQLContext } from '../services';
import { userView } from '../services/user-service';

@Resolver(() => User)
export class UserResolver {
  @Access('READ')
  @Query(() => User, { description: 'The caller: a signed-in user, or "local" (an admin) when authentication is off.' })
  viewer(@Ctx() { services, caller }: GraphQLContext) {
    return services.users.viewer(caller);
  }

  @Access('ADMIN')
  @Query(() => [User], { description: 'Every user, by name.' })
  users(@Ctx() { services }: GraphQLContext) {
    return services.users.list();
  }

  @Access('ADMIN')
  @Mutation(() => User, { description: 'A user who signs in with the password, or only with tokens when there is none.' })
  createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() { services }: GraphQLContext) {
    return services.users.create(input);
  }

  @Access('ADMIN')
  @Mutation(() => User, { description: 'Disabling signs the user out everywhere and stops their tokens; enabling restores them.' })
  setUserDisabled(
    @Arg('user', () => String) user: string,
    @Arg('disabled', () => Boolean) disabled: boolean,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.users.setDisabled(caller, user, disabled);
  }

  @Access('WRITE')
  @Mutation(() => User, { description: 'Changes the caller\'s password (give currentPassword), or, for an admin, any user\'s. Signs the user\'s browsers out.' })
  setPassword(
    @Arg('password', () => String) password: string,
    @Arg('currentPassword', () => String, { nullable: true }) currentPassword: string | null,
    @Arg('user', () => String, { nullable: true, description: 'Default: the caller.' }) user: string | null,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.users.setPassword(caller, user, currentPassword, password);
  }

  @Access('READ')
  @Query(() => [ApiToken], { description: 'The caller\'s tokens, or (admin) another user\'s.' })
  apiTokens(@Arg('user', () => String, { nullable: true }) user: string | null, @Ctx() { services, caller }: GraphQLContext) {
    return services.users.tokens(caller, user);
  }

  @Access('WRITE')
  @Mutation(() => CreatedToken, { description: 'The secret is in this answer only; the server keeps a hash.' })
  createToken(@Arg('input', () => CreateTokenInput) input: CreateTokenInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.users.createToken(caller, input);
  }

  @Access('WRITE')
  @Mutation(() => ApiToken, { description: 'Stops a token at once; the caller\'s own, or (admin) anyone\'s.' })
  revokeToken(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.users.revokeToken(caller, id);
  }
}

@Resolver(() => ApiToken)
export class ApiTokenResolver {
  @FieldResolver(() => User)
  user(@Root() token: ApiTokenEntity) {
    return userView(token.user);
  }
}

@Resolver(() => ProjectMember)
export class ProjectMemberResolver {
  @FieldResolver(() => User)
  user(@Root() member: ProjectMemberEntity) {
    return userView(member.user);
  }
}
