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

  // Server paths are for those who run the server.
  @FieldResolver(() => String, { nullable: true, description: 'Where the server keeps the file (a file: URL); shown to admins only, null for everyone else.' })
  uri(@Root() artifact: ArtifactEntity, @Ctx() { caller }: GraphQLContext): string | null {
    return caller.admin ? artifact.uri : null;
  }

  @FieldResolver(() => String, { description: 'Path on this server that serves the file (HTTP GET).' })
  downloadUrl(@Root() artifact: ArtifactEntity) {
    return artifactPath(artifact.id);
  }
}

export function artifactPath(id: string): string {
  return `/artifacts/${id}`;
}
