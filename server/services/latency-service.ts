import type { EntityManager } from '@mikro-orm/knex';
import { configHash, parseChannelList, type ChannelList } from '../../autoslim';
import type { LatencyPayload } from '../../executors/latency/plugin';
import { MIN_TIMED_RUNS, MIN_WARMUP_RUNS } from '../../executors/latency/measure';
import { accuracy, type PredictionAccuracy } from '../../executors/latency/accuracy';
import { CostConstraint, JobKind, ProjectRole } from '../../schema/enums';
import type { BuildLatencyTableInput, MeasureLatencyInput } from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { Candidate, Device, type Job, LatencyMeasurement, LatencyTable, SearchSpace, SlimmingTrajectory } from '../entities';
import { badInput, userError } from '../errors';
import type { JobView } from '../jobs/job-view';
import { queueJob } from '../jobs/new-job';
import type { JobQueue } from '../jobs/queue';
import * as check from '../validation';
import { checked } from './autoslim-input';
import type { JobService } from './job-service';
import { filterId, findInProject, findOrReject, inReadableProjects } from './lookup';
import type { Caller } from '../auth/caller';
import { networkOf, searchSpaceSpec, userConfig } from './search-space-service';

export const MAX_GRID_POINTS = 64;
export const MAX_TABLE_CONFIGS = 1000;
export const MAX_ROUNDS = 10;
export const MAX_LATENCY_BATCH = 4096;

/** Timing settings of a measurement, checked: the protocol's minimums and sane maximums. */
interface Timing {
  readonly batchSize: number;
  readonly warmupRuns: number;
  readonly timedRuns: number;
}

/** Devices, latency tables and measurements; the probes that fill them run as PROFILE_LATENCY jobs. */
export class LatencyService {
  constructor(
    private readonly orm: Orm,
    private readonly jobs: JobService,
  ) {}

  devices(): Promise<Device[]> {
    return this.orm.em.fork().find(Device, {}, { orderBy: { lastSeenAt: 'desc', id: 'asc' } });
  }

  device(id: string): Promise<Device> {
    return findOrReject(this.orm.em.fork(), Device, 'device', 'id', id);
  }

  /** The given version, or the latest, of a device's table for a search space; null when none is built. */
  async table(caller: Caller, deviceId: string, searchSpaceId: string, version: number | null | undefined): Promise<LatencyTable | null> {
    const space = await findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, SearchSpace, 'search space', 'searchSpaceId', searchSpaceId);
    const where = { device: check.uuid('deviceId', deviceId), searchSpace: space.id };
    if (version != null) return this.orm.em.fork().findOne(LatencyTable, { ...where, version: check.integer('version', version, 1) });
    return this.orm.em.fork().findOne(LatencyTable, where, { orderBy: { version: 'desc' } });
  }

  /** Tables of the search spaces the caller may read. */
  async tables(caller: Caller, deviceId: string | null, searchSpaceId: string | null): Promise<LatencyTable[]> {
    const readable = await inReadableProjects(caller, 'projectId', null);
    const where: Record<string, unknown> = { searchSpace: readable.project === undefined ? {} : { project: readable.project } };
    if (deviceId) where.device = check.uuid('deviceId', deviceId);
    const em = this.orm.em.fork();
    if (searchSpaceId) {
      const id = await filterId(em, caller, SearchSpace, 'search space', 'searchSpaceId', searchSpaceId);
      where.searchSpace = { ...(where.searchSpace as object), id: id ?? { $in: [] } };
    }
    return em.find(LatencyTable, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  measurements(candidateId: string): Promise<LatencyMeasurement[]> {
    return this.orm.em.fork().find(LatencyMeasurement, { candidate: candidateId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /**
   * The table behind a candidate's predicted latency: its trajectory's under a latency budget (the
   * prediction the search went by); otherwise the latest table of the device of its latest
   * measurement with a prediction, as it stood when that measurement was filed.
   */
  async tableOfPrediction(candidate: Candidate): Promise<LatencyTable | null> {
    if (candidate.predictedLatencyMs === null) return null;
    const em = this.orm.em.fork();
    const trajectory = candidate.trajectory ? await em.findOne(SlimmingTrajectory, candidate.trajectory.id) : null;
    if (trajectory?.constraint === CostConstraint.LATENCY && trajectory.latencyTable && candidate.target !== null) {
      return em.findOne(LatencyTable, trajectory.latencyTable.id);
    }
    const measured = await em.findOne(LatencyMeasurement, { candidate: candidate.id, predictedMs: { $ne: null } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
    if (!measured) return null;
    return em.findOne(
      LatencyTable,
      { device: measured.device, searchSpace: measured.searchSpace, createdAt: { $lte: measured.createdAt } },
      { orderBy: { version: 'desc' } },
    );
  }

  async buildTable(caller: Caller, input: BuildLatencyTableInput): Promise<JobView> {
    const timing = checkedTiming(input);
    const gridPoints = input.gridPoints == null ? null : check.integer('input.gridPoints', input.gridPoints, 2, MAX_GRID_POINTS);
    const calibrationConfigs = check.integer('input.calibrationConfigs', input.calibrationConfigs, 2, MAX_TABLE_CONFIGS);
    const validationConfigs = check.integer('input.validationConfigs', input.validationConfigs, 1, MAX_TABLE_CONFIGS);
    const rounds = check.integer('input.rounds', input.rounds, 1, MAX_ROUNDS);
    const seed = check.integer('input.seed', input.seed, 0, 0xffffffff);
    const job = await this.orm.em.fork().transactional(async (em) => {
      const device = await findOrReject(em, Device, 'device', 'input.deviceId', input.deviceId);
      const space = await findInProject(em, caller, ProjectRole.EDITOR, SearchSpace, 'search space', 'input.searchSpaceId', input.searchSpaceId);
      const payload: LatencyPayload = {
        task: 'table',
        searchSpaceId: space.id,
        searchSpace: searchSpaceSpec(space),
        gridPoints,
        calibrationConfigs,
        validationConfigs,
        rounds,
        seed,
        ...timing,
      };
      return latencyJob(em, this.jobs.queue, device, space, payload, SearchSpace.name, space.id);
    });
    return this.jobs.announce(job);
  }

  async measure(caller: Caller, input: MeasureLatencyInput): Promise<JobView> {
    const timing = checkedTiming(input);
    if (input.candidateId && (input.searchSpaceId || input.channels)) {
      throw badInput('input.candidateId', 'give either candidateId, or searchSpaceId and channels, not both');
    }
    if (!input.candidateId && !input.searchSpaceId) throw badInput('input.candidateId', 'give candidateId, or searchSpaceId and channels');
    if (input.searchSpaceId && !input.channels) throw badInput('input.channels', 'is required with searchSpaceId');
    const job = await this.orm.em.fork().transactional(async (em) => {
      const device = await findOrReject(em, Device, 'device', 'input.deviceId', input.deviceId);
      if (input.candidateId) {
        const candidate = await findInProject(em, caller, ProjectRole.EDITOR, Candidate, 'candidate', 'input.candidateId', input.candidateId);
        await em.populate(candidate, ['searchSpace']);
        const channels = configOf(candidate.searchSpace, candidate.channels, 'input.candidateId');
        return measurementJob(em, this.jobs.queue, device, candidate.searchSpace, channels, candidate, timing);
      }
      const space = await findInProject(em, caller, ProjectRole.EDITOR, SearchSpace, 'search space', 'input.searchSpaceId', input.searchSpaceId!);
      check.list('input.channels', input.channels!, 1);
      return measurementJob(em, this.jobs.queue, device, space, userConfig(space, input.channels!, 'input'), null, timing);
    });
    return this.jobs.announce(job);
  }
}

/** What a table's validation must reach for its predictions to be relied on (issue #16's goal). */
export const LATENCY_GOAL = { within5: 0.95, kendallTau: 0.95 } as const;

/** A table's validation figures, Kendall's τ computed from its stored rows. */
export function validationOf(table: LatencyTable): PredictionAccuracy {
  const { kendallTau } = accuracy(
    table.validationRows.map((r) => r.predictedMs),
    table.validationRows.map((r) => r.measuredMs),
  );
  return { configs: table.validationConfigs, mape: table.mape, within5: table.within5, within10: table.within10, kendallTau };
}

/** Why predictions of a table cannot be relied on, when its validation falls short of LATENCY_GOAL; null when it meets it. */
export function validationWarning(table: LatencyTable): string | null {
  const v = validationOf(table);
  const shortfalls = [
    ...(v.within5 < LATENCY_GOAL.within5 ? [`${percent(v.within5)} of validation configurations within ±5% (goal ≥ ${percent(LATENCY_GOAL.within5)})`] : []),
    ...(v.kendallTau === null || v.kendallTau < LATENCY_GOAL.kendallTau
      ? [`Kendall τ ${v.kendallTau === null ? 'undefined' : v.kendallTau.toFixed(2)} (goal ≥ ${LATENCY_GOAL.kendallTau})`]
      : []),
  ];
  if (!shortfalls.length) return null;
  return (
    `latency table v${table.version} is weaker than the goal: ${shortfalls.join(', ')}; MAPE ${percent(v.mape)} over ${v.configs} configurations. ` +
    'Predicted latencies may miss their budgets: check the measured latency of every candidate'
  );
}

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(0)}%`;
}

/** The latest table of a device for a search space. */
export function latestTable(em: EntityManager, device: Device, space: SearchSpace): Promise<LatencyTable | null> {
  return em.findOne(LatencyTable, { device, searchSpace: space }, { orderBy: { version: 'desc' }, populate: ['artifact'] });
}

/** The latest table of a device for a search space, which a latency budget needs. */
export async function tableForSlimming(em: EntityManager, field: string, deviceId: string, space: SearchSpace): Promise<LatencyTable> {
  const device = await findOrReject(em, Device, 'device', field, deviceId);
  const table = await latestTable(em, device, space);
  if (!table) throw noTableError(field, device, space);
  return table;
}

/**
 * Queues the timing of one config on a device, in the caller's transaction; the latest table of
 * the device and search space, if it has the same batch size, adds its prediction to the result.
 */
export async function measurementJob(
  em: EntityManager,
  queue: JobQueue,
  device: Device,
  space: SearchSpace,
  channels: ChannelList,
  candidate: Candidate | null,
  timing: Timing,
): Promise<Job> {
  const table = await latestTable(em, device, space);
  const payload: LatencyPayload = {
    task: 'measure',
    searchSpaceId: space.id,
    searchSpace: searchSpaceSpec(space),
    candidateId: candidate?.id ?? null,
    channels: [...channels],
    table: table && table.batchSize === timing.batchSize ? { uri: table.artifact.uri, sha256: table.artifact.sha256 } : null,
    ...timing,
  };
  return candidate
    ? latencyJob(em, queue, device, space, payload, Candidate.name, candidate.id)
    : latencyJob(em, queue, device, space, payload, SearchSpace.name, space.id);
}

/** The protocol's defaults, for measurements the platform queues itself. */
export const DEFAULT_TIMING: Timing = { batchSize: 1, warmupRuns: MIN_WARMUP_RUNS, timedRuns: MIN_TIMED_RUNS };

function latencyJob(
  em: EntityManager,
  queue: JobQueue,
  device: Device,
  space: SearchSpace,
  payload: LatencyPayload,
  subjectType: string,
  subjectId: string,
): Promise<Job> {
  return queueJob(em, queue, {
    project: space.project,
    kind: JobKind.PROFILE_LATENCY,
    payload: { ...payload },
    deviceFingerprint: device.fingerprint,
    subjectType,
    subjectId,
  });
}

function configOf(space: SearchSpace, channels: readonly number[], field: string): ChannelList {
  const { architecture, options } = networkOf(space);
  const structure = parseChannelList(architecture, space.maxChannels, options);
  return checked(field, () => parseChannelList(architecture, channels, options, structure));
}

function checkedTiming(input: Timing): Timing {
  return {
    batchSize: check.integer('input.batchSize', input.batchSize, 1, MAX_LATENCY_BATCH),
    warmupRuns: check.integer('input.warmupRuns', input.warmupRuns, MIN_WARMUP_RUNS, 10_000),
    timedRuns: check.integer('input.timedRuns', input.timedRuns, MIN_TIMED_RUNS, 100_000),
  };
}

/** The content hash a measurement is filed under. */
export function measuredConfigHash(space: SearchSpace, channels: readonly number[]): string {
  const { architecture, options } = networkOf(space);
  return configHash(architecture, parseChannelList(architecture, channels, options, parseChannelList(architecture, space.maxChannels, options)));
}

function noTableError(field: string, device: Device, space: SearchSpace) {
  return userError(
    'FAILED_PRECONDITION',
    field,
    `device ${device.id} has no latency table for search space "${space.name}"; build one with buildLatencyTable`,
  );
}
