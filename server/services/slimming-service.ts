import { evalCropRatioOf, MAX_CALIBRATION_IMAGES } from './export-service';
import { BnMode, CostConstraint, JobKind, ProjectRole, Scoring } from '../../schema/enums';
import type { StartSlimmingInput } from '../../schema/inputs';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../db/orm';
import { type Candidate, type Dataset, type Job, SlimmingStep, SlimmingTrajectory, Supernet, TrajectoryPick } from '../entities';
import { badInput, userError } from '../errors';
import type { JobView } from '../jobs/job-view';
import * as check from '../validation';
import type { JobCreator, JobService } from './job-service';
import { datasetSpec } from './dataset-service';
import { tableForSlimming } from './latency-service';
import { findInProject } from './lookup';
import type { Caller } from '../auth/caller';
import { searchSpaceSpec } from './search-space-service';

export const MAX_TARGETS = 64;
export const MAX_EVAL_BATCHES = 16;

/** BN statistics are recalibrated on training images outside the search hold-out, so there must be that many. */
export function checkCalibrationFits(field: string, calibrationImages: number, dataset: Dataset): void {
  const trainingImages = dataset.trainSize - dataset.searchSize!;
  if (calibrationImages > trainingImages) throw badInput(field, `must not exceed the ${trainingImages} training images outside the search hold-out`);
}

export class SlimmingService {
  constructor(
    private readonly orm: Orm,
    private readonly jobs: JobService,
  ) {}

  /** Creates the trajectory and its SLIM job in one transaction. */
  async start(caller: Caller, input: StartSlimmingInput): Promise<JobView> {
    const settings = checkSlimming(input);
    const job = await this.orm.em.fork().transactional(async (em) => {
      const supernet = await findInProject(em, caller, ProjectRole.EDITOR, Supernet, 'supernet', 'input.supernetId', input.supernetId);
      return queueSlimming(em, this.jobs, supernet, settings);
    });
    return this.jobs.announce(job);
  }

  getTrajectory(caller: Caller, id: string): Promise<SlimmingTrajectory> {
    return findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, SlimmingTrajectory, 'trajectory', 'id', id);
  }

  /** The trajectories of a supernet the caller has already been allowed to see. */
  listTrajectories(supernetId: string): Promise<SlimmingTrajectory[]> {
    return this.orm.em.fork().find(SlimmingTrajectory, { supernet: supernetId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  steps(trajectoryId: string): Promise<SlimmingStep[]> {
    return this.orm.em.fork().find(SlimmingStep, { trajectory: trajectoryId }, { orderBy: { index: 'asc' } });
  }

  /** The configuration the trajectory picked for each of its budgets, with its candidate, largest budget first. */
  picks(trajectoryId: string): Promise<TrajectoryPick[]> {
    return this.orm.em.fork().find(TrajectoryPick, { trajectory: trajectoryId }, { populate: ['candidate'], orderBy: { target: 'desc' } });
  }

  /** The candidates the trajectory picked, each once, in the order of its largest budget. */
  async pickedCandidates(trajectoryId: string): Promise<Candidate[]> {
    return [...new Set((await this.picks(trajectoryId)).map((p) => p.candidate))];
  }

  step(id: string): Promise<SlimmingStep | null> {
    return this.orm.em.fork().findOne(SlimmingStep, id);
  }
}

/** A slimming request's settings, checked before anything is read or queued. */
export interface SlimmingSettings {
  readonly input: StartSlimmingInput;
  readonly targets: number[];
  readonly evalBatchSize: number;
  readonly evalSeed: number;
  readonly evalBatches: number;
  readonly minWidthFraction: number;
  readonly calibrationImages: number;
  readonly calibrationSeed: number;
  readonly screening: { batch: number; keep: number } | null;
}

export function checkSlimming(input: StartSlimmingInput): SlimmingSettings {
  check.list('input.targets', input.targets, 1, MAX_TARGETS);
  input.targets.forEach((t, i) => check.finite(`input.targets[${i}]`, t, 0, Number.MAX_SAFE_INTEGER, true));
  const evalBatchSize = check.integer('input.evalBatchSize', input.evalBatchSize, 1, 65_536);
  const latency = input.constraint === CostConstraint.LATENCY;
  if (latency && !input.deviceId) throw badInput('input.deviceId', 'latency budgets need the device whose latency table gives the cost');
  if (!latency && input.deviceId) throw badInput('input.deviceId', 'only a LATENCY constraint uses a device');
  return {
    input,
    targets: [...new Set(input.targets)].sort((a, b) => b - a),
    evalBatchSize,
    evalSeed: check.integer('input.evalSeed', input.evalSeed, 0, 0xffffffff),
    evalBatches: check.integer('input.evalBatches', input.evalBatches, 1, MAX_EVAL_BATCHES),
    minWidthFraction: checkedMinWidthFraction(input.minWidthFraction),
    calibrationImages: check.integer('input.calibrationImages', input.calibrationImages, 2, MAX_CALIBRATION_IMAGES),
    calibrationSeed: check.integer('input.calibrationSeed', input.calibrationSeed, 0, 0xffffffff),
    screening: checkedScreening(input, evalBatchSize),
  };
}

/** The trajectory of `supernet` and its SLIM job, in the caller's transaction; the supernet must have a checkpoint. */
export async function queueSlimming(em: EntityManager, jobs: JobCreator, supernet: Supernet, checked: SlimmingSettings): Promise<Job> {
  const { input, targets, evalBatchSize, evalSeed, evalBatches, minWidthFraction, calibrationImages, calibrationSeed, screening } = checked;
  await em.populate(supernet, ['run.checkpoint', 'dataset', 'searchSpace']);
  const checkpoint = supernet.run.checkpoint;
  if (!checkpoint) {
    throw userError('FAILED_PRECONDITION', 'input.supernetId', 'the supernet has no checkpoint yet; wait for its training to save one');
  }
  if (evalBatchSize > supernet.dataset.searchSize!) {
    throw badInput('input.evalBatchSize', `the search hold-out has only ${supernet.dataset.searchSize} images`);
  }
  const recalibrated = input.bnMode === BnMode.RECALIBRATED;
  if (recalibrated) checkCalibrationFits('input.calibrationImages', calibrationImages, supernet.dataset);
  const settings = { constraint: input.constraint, targets, evalBatchSize, evalSeed, evalBatches, bnMode: input.bnMode, minWidthFraction, scoring: input.scoring };
  // Only a recalibrating walk reads calibration images; under BATCH_STATS the trajectory records none.
  const calibration = recalibrated ? { calibrationImages, calibrationSeed } : null;
  const latencyTable = input.constraint === CostConstraint.LATENCY ? await tableForSlimming(em, 'input.deviceId', input.deviceId!, supernet.searchSpace) : null;
  const trajectory = em.create(SlimmingTrajectory, { project: supernet.project, supernet, latencyTable, ...settings, ...calibration });
  return jobs.create(em, {
    project: supernet.project,
    kind: JobKind.SLIM,
    payload: {
      trajectoryId: trajectory.id,
      supernetId: supernet.id,
      searchSpace: searchSpaceSpec(supernet.searchSpace),
      dataset: await datasetSpec(em, supernet.dataset),
      evalCropRatio: evalCropRatioOf(supernet.run.recipe),
      checkpoint: { uri: checkpoint.uri, sha256: checkpoint.sha256 },
      ...settings,
      ...calibration,
      screening,
      latencyTable: latencyTable && { uri: latencyTable.artifact.uri, sha256: latencyTable.artifact.sha256 },
    },
    subjectType: SlimmingTrajectory.name,
    subjectId: trajectory.id,
  });
}

/** autoslim/greedy.ts's rule, checked before anything is queued. */
function checkedMinWidthFraction(value: number): number {
  check.finite('input.minWidthFraction', value, 0, 1);
  if (value >= 1) throw badInput('input.minWidthFraction', `must be below 1 (got ${value})`);
  return value;
}

function checkedScreening(input: StartSlimmingInput, evalBatchSize: number): { batch: number; keep: number } | null {
  if (input.screenBatchSize == null) return null;
  if (evalBatchSize < 4) throw badInput('input.screenBatchSize', 'screening needs an evaluation batch of at least 4 images');
  const batch = check.integer('input.screenBatchSize', input.screenBatchSize, 2, evalBatchSize - 1);
  const keep = check.integer('input.screenKeep', input.screenKeep, 1, 1000);
  if (input.scoring !== Scoring.ACCURACY) {
    throw badInput('input.screenBatchSize', 'screening ranks proposals by accuracy, so it needs scoring ACCURACY');
  }
  return { batch, keep };
}
