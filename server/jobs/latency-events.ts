/**
 * What the event sink does with latency reports: a built table becomes the next version for its
 * device and search space; a measurement is filed, and lands on its candidate, flagged when it
 * misses the latency target the candidate was chosen for.
 */
import type { EntityManager } from '@mikro-orm/knex';
import { ProtocolError } from '../../executors/protocol-error';
import type { ExecutorEvent } from '../../executors/contract';
import { CostConstraint } from '../../schema/enums';
import { Artifact, Candidate, Device, type Job, LatencyMeasurement, LatencyTable, SearchSpace, type SlimmingTrajectory } from '../entities';
import { parseChannelList } from '../../autoslim';
import { DEFAULT_TIMING, measuredConfigHash, measurementJob } from '../services/latency-service';
import { networkOf } from '../services/search-space-service';
import type { JobQueue } from './queue';

type EventOf<T extends ExecutorEvent['type']> = Extract<ExecutorEvent, { type: T }>;

export async function saveLatencyTable(em: EntityManager, job: Job, event: EventOf<'latencyTable'>): Promise<void> {
  if (await em.count(LatencyTable, { jobId: job.id })) return;
  const device = await deviceOf(em, job);
  const space = await spaceOf(em, job, event.searchSpaceId);
  const artifact = await em.findOneOrFail(Artifact, event.artifact.id);
  artifact.project ??= job.project;
  const latest = await em.findOne(LatencyTable, { device, searchSpace: space }, { orderBy: { version: 'desc' } });
  const { validation, ...summary } = event.summary;
  em.create(LatencyTable, {
    device,
    searchSpace: space,
    version: (latest?.version ?? 0) + 1,
    jobId: job.id,
    artifact,
    ...summary,
    validationConfigs: validation.configs,
    mape: validation.mape,
    within5: validation.within5,
    within10: validation.within10,
    uncalibratedMape: validation.uncalibratedMape,
    validationRows: validation.rows.map((r) => ({ channels: [...r.channels], predictedMs: r.predictedMs, measuredMs: r.measuredMs })),
  });
  await em.flush();
}

export async function saveLatencyMeasurement(em: EntityManager, job: Job, event: EventOf<'latencyMeasured'>): Promise<void> {
  if (await em.count(LatencyMeasurement, { jobId: job.id })) return;
  const { measurement: m } = event;
  const device = await deviceOf(em, job);
  const space = await spaceOf(em, job, m.searchSpaceId);
  const candidate = m.candidateId ? await em.findOne(Candidate, { id: m.candidateId, searchSpace: space }, { populate: ['trajectory'] }) : null;
  const { medianMs, p10Ms, p90Ms, meanMs, stdMs, warmupRuns, timedRuns, attempts, noisy } = m.stats;
  em.create(LatencyMeasurement, {
    device,
    searchSpace: space,
    candidate,
    jobId: job.id,
    configHash: measuredConfigHash(space, m.channels),
    channels: [...m.channels],
    batchSize: m.batchSize,
    ...{ medianMs, p10Ms, p90Ms, meanMs, stdMs, warmupRuns, timedRuns, attempts, noisy },
    predictedMs: m.predictedMs,
    // A worker of a version before this field sends none.
    undisturbedMs: m.undisturbedMs ?? null,
  });
  if (candidate) {
    candidate.measuredLatencyMs = medianMs;
    // A latency-constrained candidate keeps the prediction its search went by; any other takes the latest table's.
    if (candidate.trajectory?.constraint === CostConstraint.LATENCY && candidate.target !== null) {
      candidate.latencyTargetMissed = medianMs > candidate.target;
    } else if (m.predictedMs !== null) {
      candidate.predictedLatencyMs = m.predictedMs;
    }
  }
  await em.flush();
}

/**
 * Every candidate of a latency-constrained trajectory is measured for real, on the device whose
 * table predicted it. The job is queued in the caller's transaction; it is
 * returned to be announced once committed.
 */
export async function queueCandidateMeasurement(
  em: EntityManager,
  queue: JobQueue,
  trajectory: SlimmingTrajectory,
  candidate: Candidate,
): Promise<Job | null> {
  if (trajectory.constraint !== CostConstraint.LATENCY || !trajectory.latencyTable) return null;
  const table = await em.findOneOrFail(LatencyTable, trajectory.latencyTable.id, { populate: ['device', 'searchSpace'] });
  const { architecture, options } = networkOf(table.searchSpace);
  const channels = parseChannelList(architecture, candidate.channels, options, parseChannelList(architecture, table.searchSpace.maxChannels, options));
  return measurementJob(em, queue, table.device, table.searchSpace, channels, candidate, { ...DEFAULT_TIMING, batchSize: table.batchSize });
}

async function deviceOf(em: EntityManager, job: Job): Promise<Device> {
  const device = job.deviceFingerprint ? await em.findOne(Device, { fingerprint: job.deviceFingerprint }) : null;
  if (!device) throw new ProtocolError('BAD_REQUEST', `job ${job.id} reported a latency result but names no registered device`);
  return device;
}

async function spaceOf(em: EntityManager, job: Job, searchSpaceId: string): Promise<SearchSpace> {
  const space = await em.findOne(SearchSpace, { id: searchSpaceId, project: job.project });
  if (!space) throw new ProtocolError('BAD_REQUEST', `job ${job.id} reported on search space ${searchSpaceId}, which is not in its project`);
  return space;
}
