import { DEFAULT_TRANSFORMS } from '../../executors/data/loader';
import type { EntityManager } from '@mikro-orm/core';
import { ExportBatchNorm, JobKind, ProjectRole, RunKind, RunStatus } from '../../schema/enums';
import type { ExportCandidateInput } from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { Artifact, Candidate, Dataset, Job, TrainingRun } from '../entities';
import { badInput, userError } from '../errors';
import type { JobView } from '../jobs/job-view';
import * as check from '../validation';
import type { JobService } from './job-service';
import { candidateSupernet } from './candidate-supernet';
import { datasetSpec } from './dataset-service';
import { findInProject } from './lookup';
import type { Caller } from '../auth/caller';
import { searchSpaceSpec } from './search-space-service';
import { checkImagesFit } from './supernet-service';

export const MAX_CALIBRATION_IMAGES = 65_536;

/** Where an export's weights come from, resolved and checked. */
interface WeightsSource {
  readonly weights: 'supernet' | 'retrained';
  /** The supernet or training run the weights come from. */
  readonly sourceId: string;
  readonly checkpoint: Artifact;
  readonly dataset: Dataset;
  /** The recipe the weights were trained with: its evaluation transform is the export's. */
  readonly recipe: Record<string, unknown>;
}

/** Standalone ONNX exports of candidates, as EXPORT jobs, and the artifacts they produce. */
export class ExportService {
  constructor(
    private readonly orm: Orm,
    private readonly jobs: JobService,
  ) {}

  async exportCandidate(caller: Caller, input: ExportCandidateInput): Promise<JobView> {
    const calibrationImages = check.integer('input.calibrationImages', input.calibrationImages, 2, MAX_CALIBRATION_IMAGES);
    const calibrationSeed = check.integer('input.calibrationSeed', input.calibrationSeed, 0, 0xffffffff);
    if (input.runId && input.supernetId) throw badInput('input.runId', 'give runId or supernetId, not both');
    const job = await this.orm.em.fork().transactional(async (em) => {
      const candidate = await findInProject(em, caller, ProjectRole.EDITOR, Candidate, 'candidate', 'input.candidateId', input.candidateId);
      await em.populate(candidate, ['searchSpace']);
      const source = input.runId ? await retrainedWeights(em, caller, candidate, input.runId) : await supernetWeights(em, caller, candidate, input.supernetId);
      const dataset = input.datasetId ? await findInProject(em, caller, ProjectRole.VIEWER, Dataset, 'dataset', 'input.datasetId', input.datasetId) : source.dataset;
      if (dataset.project.id !== candidate.project.id) throw badInput('input.datasetId', 'dataset belongs to another project than the candidate');
      if (dataset.numClasses !== candidate.searchSpace.numClasses) {
        throw badInput('input.datasetId', `dataset has ${dataset.numClasses} classes, the candidate's search space ${candidate.searchSpace.numClasses}`);
      }
      checkImagesFit('input.datasetId', dataset, candidate.searchSpace);
      return this.jobs.create(em, {
        project: candidate.project,
        kind: JobKind.EXPORT,
        payload: {
          candidateId: candidate.id,
          configHash: candidate.configHash,
          searchSpace: searchSpaceSpec(candidate.searchSpace),
          channels: candidate.channels,
          weights: source.weights,
          sourceId: source.sourceId,
          checkpoint: { uri: source.checkpoint.uri, sha256: source.checkpoint.sha256 },
          dataset: await datasetSpec(em, dataset),
          trainingDataset: await datasetSpec(em, source.dataset),
          batchNorm: input.batchNorm ?? ExportBatchNorm.FOLDED,
          calibrationImages,
          calibrationSeed,
          evalCropRatio: evalCropRatioOf(source.recipe),
          macs: candidate.macs,
          params: candidate.params,
        },
        subjectType: Candidate.name,
        subjectId: candidate.id,
      });
    });
    return this.jobs.announce(job);
  }

  artifact(caller: Caller, id: string): Promise<Artifact> {
    return findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, Artifact, 'artifact', 'id', id);
  }
}

async function retrainedWeights(em: EntityManager, caller: Caller, candidate: Candidate, runId: string): Promise<WeightsSource> {
  const run = await findInProject(em, caller, ProjectRole.VIEWER, TrainingRun, 'training run', 'input.runId', runId);
  if (run.kind !== RunKind.RETRAIN || run.candidateId !== candidate.id) throw badInput('input.runId', 'must be a retraining run of this candidate');
  if (run.status !== RunStatus.FINISHED || !run.checkpoint) {
    throw userError('FAILED_PRECONDITION', 'input.runId', `the run is ${run.status}; only a finished run's final weights can be exported`);
  }
  await em.populate(run, ['checkpoint']);
  const job = await em.findOne(Job, { kind: JobKind.RETRAIN, subjectId: run.id });
  const datasetId = (job?.payload as { datasetId?: string } | undefined)?.datasetId;
  const dataset = datasetId ? await em.findOne(Dataset, datasetId) : null;
  if (!dataset) throw userError('FAILED_PRECONDITION', 'input.datasetId', 'the dataset the run trained on is unknown; give datasetId');
  return { weights: 'retrained', sourceId: run.id, checkpoint: run.checkpoint, dataset, recipe: run.recipe };
}

async function supernetWeights(em: EntityManager, caller: Caller, candidate: Candidate, supernetId: string | null | undefined): Promise<WeightsSource> {
  const { supernet, checkpoint } = await candidateSupernet(em, caller, candidate, supernetId, 'input.supernetId', 'give supernetId or runId');
  return { weights: 'supernet', sourceId: supernet.id, checkpoint, dataset: supernet.dataset, recipe: supernet.run.recipe };
}

/** The evaluation crop of a recipe; recipes recorded before it was one used the default. */
export function evalCropRatioOf(recipe: Record<string, unknown>): number {
  return typeof recipe.evalCropRatio === 'number' ? recipe.evalCropRatio : DEFAULT_TRANSFORMS.evalCropRatio;
}
