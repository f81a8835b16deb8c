import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { BuildLatencyTableInput, MeasureLatencyInput } from '../../schema/inputs';
import {
  Artifact,
  Candidate,
  Device,
  Job,
  LatencyMeasurement,
  LatencyTable,
  LatencyValidation,
  SearchSpace,
  SlimmingTrajectory,
} from '../../schema/types';
import {
  Candidate as CandidateEntity,
  LatencyMeasurement as MeasurementEntity,
  LatencyTable as TableEntity,
  type SlimmingTrajectory as TrajectoryEntity,
} from '../entities';
import { Access } from '../auth/policy';
import { LATENCY_GOAL, validationOf, validationWarning } from '../services/latency-service';
import type { GraphQLContext } from '../services';

@Resolver(() => Device)
export class DeviceResolver {
  @Access('READ')
  @Query(() => [Device], { description: 'Devices latency probes measure on, most recently seen first.' })
  devices(@Ctx() { services }: GraphQLContext) {
    return services.latency.devices();
  }

  @Access('READ')
  @Query(() => Device)
  device(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext) {
    return services.latency.device(id);
  }
}

@Resolver(() => LatencyTable)
export class LatencyResolver {
  @Access('READ')
  @Query(() => LatencyTable, { nullable: true, description: 'A device\'s latency table of a search space: the latest, or the given version; null when none is built.' })
  latencyTable(
    @Arg('deviceId', () => ID) deviceId: string,
    @Arg('searchSpaceId', () => ID) searchSpaceId: string,
    @Arg('version', () => Int, { nullable: true }) version: number | null,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.latency.table(caller, deviceId, searchSpaceId, version);
  }

  @Access('READ')
  @Query(() => [LatencyTable], { description: 'Every version, oldest first.' })
  latencyTables(
    @Arg('deviceId', () => ID, { nullable: true }) deviceId: string | null,
    @Arg('searchSpaceId', () => ID, { nullable: true }) searchSpaceId: string | null,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.latency.tables(caller, deviceId, searchSpaceId);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Queues the PROFILE_LATENCY job that builds and validates a latency table on the device.' })
  buildLatencyTable(@Arg('input', () => BuildLatencyTableInput) input: BuildLatencyTableInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.latency.buildTable(caller, input);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Queues the PROFILE_LATENCY job that times one config (a candidate, or a channel list) on the device.' })
  measureLatency(@Arg('input', () => MeasureLatencyInput) input: MeasureLatencyInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.latency.measure(caller, input);
  }

  @FieldResolver(() => Device)
  device(@Root() table: TableEntity, @Ctx() { services }: GraphQLContext) {
    return services.latency.device(table.device.id);
  }

  @FieldResolver(() => SearchSpace)
  searchSpace(@Root() table: TableEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.get(caller, table.searchSpace.id);
  }

  @FieldResolver(() => Artifact, { description: 'The table itself: every block\'s grid, as JSON.' })
  async artifact(@Root() table: TableEntity, @Ctx() { services }: GraphQLContext) {
    return (await services.orm.em.fork().findOneOrFail(TableEntity, table.id, { populate: ['artifact'] })).artifact;
  }

  @FieldResolver(() => LatencyValidation)
  validation(@Root() table: TableEntity): LatencyValidation {
    return {
      ...validationOf(table),
      uncalibratedMape: table.uncalibratedMape,
      rows: table.validationRows.map((r) => ({ ...r, error: r.predictedMs / r.measuredMs - 1 })),
    };
  }
}

@Resolver(() => LatencyMeasurement)
export class LatencyMeasurementResolver {
  @FieldResolver(() => Device)
  device(@Root() measurement: MeasurementEntity, @Ctx() { services }: GraphQLContext) {
    return services.latency.device(measurement.device.id);
  }

  @FieldResolver(() => Candidate, { nullable: true })
  candidate(@Root() measurement: MeasurementEntity, @Ctx() { services, caller }: GraphQLContext) {
    return measurement.candidate ? services.candidates.get(caller, measurement.candidate.id) : null;
  }
}

@Resolver(() => Candidate)
export class CandidateLatencyResolver {
  @FieldResolver(() => [LatencyMeasurement], { description: 'Every timing of this config, on every device, oldest first.' })
  latencyMeasurements(@Root() candidate: CandidateEntity, @Ctx() { services }: GraphQLContext) {
    return services.latency.measurements(candidate.id);
  }

  @FieldResolver(() => LatencyTable, {
    nullable: true,
    description:
      "The table behind predictedLatencyMs, whose validation says how far to trust it: the trajectory's under a latency budget, otherwise the measuring device's latest table when the prediction was made.",
  })
  predictedLatencyTable(@Root() candidate: CandidateEntity, @Ctx() { services }: GraphQLContext) {
    return services.latency.tableOfPrediction(candidate);
  }
}

@Resolver(() => SlimmingTrajectory)
export class TrajectoryLatencyResolver {
  @FieldResolver(() => LatencyTable, { nullable: true, description: 'Under a latency budget: the table whose predictions were the cost.' })
  latencyTable(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext) {
    return trajectory.latencyTable ? services.orm.em.fork().findOneOrFail(TableEntity, trajectory.latencyTable.id) : null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: `Under a latency budget, when the table's validation is weaker than the goal (≥ ${100 * LATENCY_GOAL.within5}% within ±5%, Kendall τ ≥ ${LATENCY_GOAL.kendallTau}): why its predicted latencies may not hold. Null otherwise.`,
  })
  async latencyWarning(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext): Promise<string | null> {
    if (!trajectory.latencyTable) return null;
    return validationWarning(await services.orm.em.fork().findOneOrFail(TableEntity, trajectory.latencyTable.id));
  }
}
