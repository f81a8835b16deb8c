import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import { configHash, parseChannelList, profile, type ChannelList } from '../../autoslim';
import { ProtocolError } from '../../executors/protocol-error';
import type { ExecutorEvent, MetricSample } from '../../executors/contract';
import { CandidateSource } from '../../schema/enums';
import { Artifact, Candidate, type Job, MetricPoint, SlimmingStep, SlimmingTrajectory, TrainingRun, TrajectoryPick } from '../entities';
import { jobEvent, type BusEvent } from '../events';
import { jobView } from './job-view';
import { queueCandidateMeasurement, saveLatencyMeasurement, saveLatencyTable } from './latency-events';
import type { JobQueue } from './queue';
import { networkOf } from '../services/search-space-service';

const METRIC_ROWS_PER_INSERT = 500;

export type PersistedEvent = Exclude<ExecutorEvent, { type: 'log' }>;
type EventOf<T extends PersistedEvent['type']> = Extract<PersistedEvent, { type: T }>;


/**
 * Persists what executors report inside the caller's (fenced) transaction, and answers the event
 * to publish with it. Every handler is idempotent, because a job resumed after a crash, or a report
 * retried after a lost answer, may report the same thing again.
 */
export class EventSink {
  constructor(private readonly queue: JobQueue) {}

  async handle(em: EntityManager, job: Job, event: PersistedEvent): Promise<BusEvent | void> {
    switch (event.type) {
      case 'metrics':
        return this.metrics(em, job, event);
      case 'checkpoint':
        return this.checkpoint(em, job, event);
      case 'runSummary':
        return this.runSummary(em, job, event);
      case 'slimmingStep':
        return this.slimmingStep(em, job, event);
      case 'candidate':
        return this.candidate(em, job, event);
      case 'evaluationStats':
        return this.evaluationStats(em, job, event);
      case 'latencyTable':
        return saveLatencyTable(em, job, event);
      case 'latencyMeasured':
        return saveLatencyMeasurement(em, job, event);
    }
  }

  private async metrics(em: EntityManager, job: Job, event: EventOf<'metrics'>): Promise<BusEvent | void> {
    const run = await this.runOf(em, job, event.runId);
    if (event.points.length === 0) return;
    const wallTime = new Date();
    // A resumed run, or a retried report, may send a step again: the unique (run, name, step) key
    // keeps the first, and only the points actually inserted are published, so no subscriber
    // sees a point twice.
    const points: MetricSample[] = [];
    // In chunks: SQLite inserts many rows as one compound SELECT, of at most 500 terms.
    for (let start = 0; start < event.points.length; start += METRIC_ROWS_PER_INSERT) {
      const chunk = event.points.slice(start, start + METRIC_ROWS_PER_INSERT);
      const inserted = await em
        .createQueryBuilder(MetricPoint)
        .insert(chunk.map((p) => ({ run: run.id, name: p.name, step: p.step, value: p.value, wallTime })))
        .onConflict(['run', 'name', 'step'])
        .ignore()
        .returning(['name', 'step', 'value'])
        .execute('all', false);
      for (const p of inserted as { name: string; step: number | string; value: number | string }[]) {
        points.push({ name: p.name, step: Number(p.step), value: Number(p.value) });
      }
    }
    if (points.length === 0) return;
    return { topic: 'TRAINING_PROGRESS', key: run.id, payload: { runId: run.id, points } };
  }

  private async checkpoint(em: EntityManager, job: Job, event: EventOf<'checkpoint'>): Promise<void> {
    const run = await this.runOf(em, job, event.runId);
    run.checkpoint = await em.findOneOrFail(Artifact, event.artifact.id);
    run.checkpointStep = event.step;
    run.checkpoint.project ??= job.project;
    await em.flush();
  }

  private async runSummary(em: EntityManager, job: Job, event: EventOf<'runSummary'>): Promise<void> {
    const run = await this.runOf(em, job, event.runId);
    run.summary = { ...event.summary };
    await em.flush();
  }

  private async slimmingStep(em: EntityManager, job: Job, event: EventOf<'slimmingStep'>): Promise<BusEvent | void> {
    const trajectory = await this.trajectoryOf(em, job, event.trajectoryId);
    const { step } = event;
    const existing = await em.findOne(SlimmingStep, { trajectory, index: step.index });
    const saved =
      existing ??
      em.create(SlimmingStep, {
        trajectory,
        index: step.index,
        unitIndex: step.unitIndex,
        unitName: step.unitName,
        channels: [...step.channels],
        macs: step.macs,
        params: step.params,
        predictedLatencyMs: step.predictedLatencyMs,
        score: step.score,
        accuracy: step.accuracy,
        accuracyDrop: step.accuracyDrop,
        proposals: step.proposals.map((p) => ({ ...p, screenAccuracy: p.screenAccuracy ?? null, screenedOut: p.screenedOut ?? false })),
      });
    await em.flush();
    if (!existing) return { topic: 'SLIMMING_PROGRESS', key: trajectory.id, payload: { trajectoryId: trajectory.id, stepId: saved.id } };
  }

  /**
   * A config crossing a target: the trajectory's pick, and the search space's AutoSlim candidate
   * of that config unless another trajectory found it first. The candidate's cost is recounted
   * here rather than trusted from the executor.
   */
  private async candidate(em: EntityManager, job: Job, event: EventOf<'candidate'>): Promise<BusEvent | void> {
    if (!Number.isInteger(event.step) || event.step < 0) {
      throw new ProtocolError('BAD_REQUEST', `job ${job.id} reported a candidate with step ${String(event.step)}: step must be a non-negative integer`);
    }
    const trajectory = await this.trajectoryOf(em, job, event.trajectoryId);
    const space = trajectory.supernet.searchSpace;
    const { architecture, options } = networkOf(space);
    const structure = parseChannelList(architecture, space.maxChannels, options);
    const channels = parseChannelList(architecture, event.channels, options, structure);
    const hash = configHash(architecture, channels);
    const found = await em.findOne(Candidate, { searchSpace: space, configHash: hash, source: CandidateSource.AUTOSLIM });
    const candidate = found ?? newCandidate(em, job, trajectory, event, channels, hash, profile(architecture, channels, options, 'reference', structure));
    await em.flush();
    await em
      .createQueryBuilder(TrajectoryPick)
      .insert({
        id: randomUUID(),
        createdAt: new Date(),
        trajectory: trajectory.id,
        candidate: candidate.id,
        target: event.target,
        searchAccuracy: event.searchAccuracy,
        step: event.step,
        predictedLatencyMs: event.predictedLatencyMs ?? null,
      })
      // A replayed report finds its pick already there.
      .onConflict(['trajectory', 'target'])
      .ignore()
      .execute();
    if (found) return;
    const measurement = await queueCandidateMeasurement(em, this.queue, trajectory, candidate);
    if (measurement) return jobEvent(jobView(measurement));
  }

  private async evaluationStats(em: EntityManager, job: Job, event: EventOf<'evaluationStats'>): Promise<void> {
    const trajectory = await this.trajectoryOf(em, job, event.trajectoryId);
    trajectory.evaluations = event.evaluations;
    trajectory.cacheHits = event.cacheHits;
    trajectory.evalSeconds = event.evalSeconds;
    await em.flush();
  }

  private async runOf(em: EntityManager, job: Job, runId: string): Promise<TrainingRun> {
    const run = await em.findOne(TrainingRun, { id: runId, project: job.project });
    if (!run) throw new ProtocolError('BAD_REQUEST', `job ${job.id} reported on run ${runId}, which is not in its project`);
    return run;
  }

  private async trajectoryOf(em: EntityManager, job: Job, trajectoryId: string): Promise<SlimmingTrajectory> {
    const trajectory = await em.findOne(SlimmingTrajectory, { id: trajectoryId, project: job.project }, { populate: ['supernet.searchSpace'] });
    if (!trajectory) throw new ProtocolError('BAD_REQUEST', `job ${job.id} reported on trajectory ${trajectoryId}, which is not in its project`);
    return trajectory;
  }
}

function newCandidate(
  em: EntityManager,
  job: Job,
  trajectory: SlimmingTrajectory,
  event: EventOf<'candidate'>,
  channels: ChannelList,
  hash: string,
  cost: { macs: number; params: number },
): Candidate {
  return em.create(Candidate, {
    project: job.project,
    searchSpace: trajectory.supernet.searchSpace,
    configHash: hash,
    channels: [...channels],
    source: CandidateSource.AUTOSLIM,
    trajectory,
    target: event.target,
    macs: cost.macs,
    params: cost.params,
    searchAccuracy: event.searchAccuracy,
    predictedLatencyMs: event.predictedLatencyMs ?? null,
  });
}
