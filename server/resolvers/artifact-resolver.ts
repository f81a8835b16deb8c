import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Artifact } from '../../schema/types';
import type { Artifact as ArtifactEntity } from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => Artifact)
export class ArtifactResolver {
  @Access('READ')
  @Query(() => Artifact)
  artifact(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.exports.artifact(caller, id);
  }

  @FieldResolver(() => String, { description: 'Path on this server that serves the file (HTTP GET).' })
  downloadUrl(@Root() artifact: ArtifactEntity) {
    return artifactPath(artifact.id);
  }
}

export function artifactPath(id: string): string {
  return `/artifacts/${id}`;
}
