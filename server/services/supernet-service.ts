import { architectureInfo } from '../../autoslim';
import type { EntityManager } from '@mikro-orm/knex';
import type { SupernetRecipeInput, TrainingRecipeInput, TrainSupernetInput } from '../../schema/inputs';
import { DatasetFormat, JobKind, ProjectRole, RunKind } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { Dataset, type Job, SearchSpace, Supernet, TrainingRun } from '../entities';
import { badInput } from '../errors';
import type { JobView } from '../jobs/job-view';
import * as check from '../validation';
import type { JobCreator, JobService } from './job-service';
import { datasetSpec } from './dataset-service';
import { filterId, findInProject, inReadableProjects } from './lookup';
import type { Caller } from '../auth/caller';
import { networkOf, searchSpaceSpec } from './search-space-service';

const SCHEDULES = ['linear', 'cosine', 'step'];
const DISTILLATION = ['soft', 'hard+kl', 'off'];

export function checkTrainingRecipe<R extends TrainingRecipeInput>(field: string, r: R): R {
  check.integer(`${field}.epochs`, r.epochs, 1, 10_000);
  check.integer(`${field}.batchSize`, r.batchSize, 1, 65_536);
  check.finite(`${field}.learningRate`, r.learningRate, 0, 10, true);
  check.finite(`${field}.momentum`, r.momentum, 0, 1);
  check.finite(`${field}.weightDecay`, r.weightDecay, 0, 1);
  check.finite(`${field}.warmupEpochs`, r.warmupEpochs, 0, r.epochs);
  check.finite(`${field}.labelSmoothing`, r.labelSmoothing, 0, 1);
  if (r.imagesPerEpoch != null) check.integer(`${field}.imagesPerEpoch`, r.imagesPerEpoch, r.batchSize, Number.MAX_SAFE_INTEGER);
  check.integer(`${field}.cropPadding`, r.cropPadding, 0, 64);
  check.finite(`${field}.cropScaleMin`, r.cropScaleMin, 0, 1, true);
  check.finite(`${field}.evalCropRatio`, r.evalCropRatio, 0, 1, true);
  if (!SCHEDULES.includes(r.schedule)) throw badInput(`${field}.schedule`, `must be one of ${SCHEDULES.join(', ')} (got "${r.schedule}")`);
  return r;
}

/**
 * The recipe as it trains on `dataset`, defaults that depend on the data filled in, so the run
 * records what was used: no mirroring for IDX data (digits and letters are not mirror-symmetric).
 */
export function recipeFor<R extends TrainingRecipeInput>(recipe: R, dataset: Dataset): R & { horizontalFlip: boolean } {
  return { ...recipe, horizontalFlip: recipe.horizontalFlip ?? dataset.format !== DatasetFormat.IDX };
}

/** A batch must fit in what every training draws from: the training split less the search hold-out. */
export function checkBatchFits(field: string, batchSize: number, dataset: Dataset): void {
  const images = dataset.trainSize - (dataset.searchSize ?? 0);
  if (batchSize > images) {
    throw badInput(field, `must be at most the dataset's ${images} training images (its training split less the search hold-out), got ${batchSize}`);
  }
}

/**
 * The loader brings every image to the search space's input size (executors/data/transforms.ts), and
 * gray to colour or colour to gray; what it cannot do is make other channel counts (a 2- or
 * 4-channel synthetic or IDX set) into what the network's stem takes.
 */
export function checkImagesFit(field: string, dataset: Dataset, space: SearchSpace): void {
  const { architecture } = networkOf(space);
  const wanted = architectureInfo(architecture).inputChannels;
  const convertible = (channels: number) => channels === 1 || channels === 3;
  if (dataset.inputChannels !== wanted && !(convertible(dataset.inputChannels) && convertible(wanted))) {
    throw badInput(field, `dataset has ${dataset.inputChannels}-channel images; ${architecture} takes ${wanted}-channel input, and only gray and colour convert into each other`);
  }
}

export function checkSupernetRecipe(field: string, recipe: SupernetRecipeInput): SupernetRecipeInput {
  const checked = checkTrainingRecipe(field, recipe);
  check.integer(`${field}.randomConfigs`, checked.randomConfigs, 0, 16);
  check.integer(`${field}.seed`, checked.seed, 0, 0xffffffff);
  if (!DISTILLATION.includes(checked.distillation)) {
    throw badInput(`${field}.distillation`, `must be one of ${DISTILLATION.join(', ')} (got "${checked.distillation}")`);
  }
  return checked;
}

/**
 * A supernet of `space` trained on `dataset` (both of one project, checked to fit), its training
 * run and its TRAIN_SUPERNET job, in the caller's transaction; `checked` is a checked recipe.
 */
export async function queueSupernetTraining(
  em: EntityManager,
  jobs: JobCreator,
  space: SearchSpace,
  dataset: Dataset,
  name: string,
  checked: SupernetRecipeInput,
): Promise<{ supernet: Supernet; job: Job }> {
  const recipe = recipeFor(checked, dataset);
  checkBatchFits('input.recipe.batchSize', recipe.batchSize, dataset);
  const run = em.create(TrainingRun, { project: space.project, kind: RunKind.SUPERNET, seed: recipe.seed, recipe: { ...recipe }, datasetId: dataset.id });
  const supernet = em.create(Supernet, { project: space.project, name, searchSpace: space, dataset, recipe: { ...recipe }, run });
  run.supernetId = supernet.id;
  const job = await jobs.create(em, {
    project: space.project,
    kind: JobKind.TRAIN_SUPERNET,
    payload: { supernetId: supernet.id, runId: run.id, searchSpace: searchSpaceSpec(space), dataset: await datasetSpec(em, dataset), recipe: { ...recipe } },
    subjectType: TrainingRun.name,
    subjectId: run.id,
  });
  return { supernet, job };
}

export class SupernetService {
  constructor(
    private readonly orm: Orm,
    private readonly jobs: JobService,
  ) {}

  /** Creates the supernet, its training run and its TRAIN_SUPERNET job in one transaction. */
  async train(caller: Caller, input: TrainSupernetInput): Promise<JobView> {
    const name = check.name('input.name', input.name);
    const checked = checkSupernetRecipe('input.recipe', { ...input.recipe });
    const job = await this.orm.em.fork().transactional(async (em) => {
      const space = await findInProject(em, caller, ProjectRole.EDITOR, SearchSpace, 'search space', 'input.searchSpaceId', input.searchSpaceId);
      const dataset = await findInProject(em, caller, ProjectRole.VIEWER, Dataset, 'dataset', 'input.datasetId', input.datasetId);
      if (dataset.project.id !== space.project.id) throw badInput('input.datasetId', 'dataset belongs to another project than the search space');
      checkImagesFit('input.datasetId', dataset, space);
      if (dataset.numClasses !== space.numClasses) {
        throw badInput('input.datasetId', `dataset has ${dataset.numClasses} classes, the search space ${space.numClasses}`);
      }
      return (await queueSupernetTraining(em, this.jobs, space, dataset, name, checked)).job;
    });
    return this.jobs.announce(job);
  }

  async list(caller: Caller, filter: { projectId?: string | null; searchSpaceId?: string | null; datasetId?: string | null }): Promise<Supernet[]> {
    const where = await inReadableProjects(caller, 'filter.projectId', filter.projectId);
    const em = this.orm.em.fork();
    if (filter.searchSpaceId) where.searchSpace = (await filterId(em, caller, SearchSpace, 'search space', 'filter.searchSpaceId', filter.searchSpaceId)) ?? { $in: [] };
    if (filter.datasetId) where.dataset = (await filterId(em, caller, Dataset, 'dataset', 'filter.datasetId', filter.datasetId)) ?? { $in: [] };
    return em.find(Supernet, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  get(caller: Caller, id: string): Promise<Supernet> {
    return findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, Supernet, 'supernet', 'id', id);
  }
}
