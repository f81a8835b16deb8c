import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { EventBus } from './events';
import { ArtifactResolver } from './resolvers/artifact-resolver';
import { CandidateResolver } from './resolvers/candidate-resolver';
import { DatasetResolver } from './resolvers/dataset-resolver';
import { JobResolver } from './resolvers/job-resolver';
import {
  CandidateLatencyResolver,
  DeviceResolver,
  LatencyMeasurementResolver,
  LatencyResolver,
  TrajectoryLatencyResolver,
} from './resolvers/latency-resolver';
import { ProjectResolver } from './resolvers/project-resolver';
import { RankingStudyConfigResolver, RankingStudyResolver } from './resolvers/ranking-study-resolver';
import { RunResolver } from './resolvers/run-resolver';
import { SearchSpaceResolver } from './resolvers/search-space-resolver';
import { SupernetResolver } from './resolvers/supernet-resolver';
import { SlimmingStepResolver, TrajectoryPickResolver, TrajectoryResolver } from './resolvers/trajectory-resolver';
import { ApiTokenResolver, ProjectMemberResolver, UserResolver } from './resolvers/user-resolver';
import { WorkerResolver } from './resolvers/worker-resolver';
import { enforcePolicies } from './auth/policy';

export function buildGraphQLSchema(bus: EventBus): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      ProjectResolver,
      DatasetResolver,
      SearchSpaceResolver,
      SupernetResolver,
      TrajectoryResolver,
      SlimmingStepResolver,
      TrajectoryPickResolver,
      CandidateResolver,
      RankingStudyResolver,
      RankingStudyConfigResolver,
      JobResolver,
      WorkerResolver,
      RunResolver,
      DeviceResolver,
      LatencyResolver,
      LatencyMeasurementResolver,
      CandidateLatencyResolver,
      TrajectoryLatencyResolver,
      ArtifactResolver,
      UserResolver,
      ApiTokenResolver,
      ProjectMemberResolver,
    ],
    globalMiddlewares: [enforcePolicies],
    pubSub: bus,
    // Inputs are validated by the services, which name the field and the rule.
    validate: false,
  });
}

/** The SDL checked in as schema/schema.graphql; sorted so the snapshot diff shows only real changes. */
export function schemaSdl(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
