/**
 * The one-click demo: a small project on SYNTHETIC images that trains a supernet, slims it under
 * two MACs budgets, matches uniform baselines to them and retrains all, sized to finish in
 * minutes on a 2-core CPU with the embedded worker. The pipeline runs on the server: the demo's
 * record says what comes next, and each stage's success queues the following one in the
 * transaction that records it (`advanceDemo`, called where job results settle).
 */
import type { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { parseChannelList, profile } from '../../autoslim';
import { CandidateSource, DatasetFormat, JobKind, JobState } from '../../schema/enums';
import {
  CreateSearchSpaceInput,
  RegisterDatasetInput,
  RetrainRecipeInput,
  StartSlimmingInput,
  SupernetRecipeInput,
  SyntheticDatasetInput,
} from '../../schema/inputs';
import type { Caller } from '../auth/caller';
import type { Orm } from '../db/orm';
import { Candidate, Dataset, DemoPipeline, DemoStage, Job, Project, SearchSpace, SlimmingTrajectory, Supernet, TrajectoryPick } from '../entities';
import { queueRetraining, uniformMatching, upsertCandidate } from './candidate-service';
import type { DatasetService } from './dataset-service';
import type { JobCreator, JobService } from './job-service';
import type { ProjectService } from './project-service';
import type { SearchSpaceService } from './search-space-service';
import { networkOf } from './search-space-service';
import { checkSlimming, queueSlimming } from './slimming-service';
import { checkSupernetRecipe, checkTrainingRecipe, queueSupernetTraining, recipeFor } from './supernet-service';

/** What the demo trains on and how long: 4.5 minutes in all on a busy 2-core CPU with the embedded worker, 3 of them slimming. */
export const DEMO = {
  images: { numClasses: 10, trainSize: 2000, testSize: 500, channels: 1, size: 16 },
  searchFraction: 0.2,
  space: { architecture: 'mbv2-fmnist', inputSize: 16, maxWidth: 0.75, groups: 6 },
  supernetEpochs: 3,
  /** The budgets, as fractions of the widest configuration's MACs. */
  budgets: [0.5, 0.3],
  retrainEpochs: 3,
} as const;

export class DemoService {
  constructor(
    private readonly orm: Orm,
    private readonly projects: ProjectService,
    private readonly datasets: DatasetService,
    private readonly searchSpaces: SearchSpaceService,
    private readonly jobs: JobService,
  ) {}

  /**
   * Creates the demo project (named `demo`, or `demo-2` and so on when taken) with its dataset and
   * search space, and queues its supernet's training, the pipeline's first stage.
   */
  async start(caller: Caller): Promise<Project> {
    const project = await this.projects.create(caller, { name: await this.vacantName(), description: 'One-click demo: synthetic 16×16 images, trained, slimmed and retrained on the server.' });
    const dataset = await this.datasets.register(
      caller,
      Object.assign(new RegisterDatasetInput(), {
        projectId: project.id,
        name: 'synthetic',
        format: DatasetFormat.SYNTHETIC,
        synthetic: Object.assign(new SyntheticDatasetInput(), DEMO.images),
        searchFraction: DEMO.searchFraction,
      }),
    );
    const space = await this.searchSpaces.create(caller, Object.assign(new CreateSearchSpaceInput(), { projectId: project.id, name: 'mbv2-small', ...DEMO.space }));
    const recipe = checkSupernetRecipe('demo.recipe', Object.assign(new SupernetRecipeInput(), { epochs: DEMO.supernetEpochs }));
    const job = await this.orm.em.fork().transactional(async (em) => {
      const queued = await queueSupernetTraining(em, this.jobs, await em.findOneOrFail(SearchSpace, space.id), await em.findOneOrFail(Dataset, dataset.id), 'demo supernet', recipe);
      em.create(DemoPipeline, { project: queued.supernet.project, supernet: queued.supernet });
      return queued.job;
    });
    this.jobs.announce(job);
    return project;
  }

  private async vacantName(): Promise<string> {
    const taken = new Set((await this.orm.em.fork().find(Project, { name: { $like: 'demo%' } }, { fields: ['name'] })).map((p) => p.name));
    let n = 1;
    while (taken.has(n === 1 ? 'demo' : `demo-${n}`)) n++;
    return n === 1 ? 'demo' : `demo-${n}`;
  }
}

/**
 * Queues what follows `job`'s success when it is a stage of a demo, in the transaction that
 * records the success, and answers the jobs it queued: the supernet trained → slim it; the
 * trajectory walked → uniform baselines matched to it, and a retraining of every pick and
 * baseline; the project's last job done (retrainings, and the scoring of the picks) → the demo is
 * done. `rowLock` orders retrainings that finish
 * at once, so the last to commit sees the others done.
 */
export async function advanceDemo(em: EntityManager, jobs: JobCreator, job: Job, rowLock: { lockMode?: LockMode }): Promise<Job[]> {
  const pipeline = await em.findOne(DemoPipeline, { project: job.project }, rowLock);
  if (!pipeline) return [];
  await em.populate(pipeline, ['supernet.searchSpace', 'supernet.dataset']);
  const supernet = pipeline.supernet;
  if (job.kind === JobKind.TRAIN_SUPERNET && pipeline.stage === DemoStage.TRAINING && (job.payload as { supernetId?: string }).supernetId === supernet.id) {
    pipeline.stage = DemoStage.SLIMMING;
    return [await queueSlimming(em, jobs, supernet, checkSlimming(demoSlimming(supernet)))];
  }
  if (job.kind === JobKind.SLIM && pipeline.stage === DemoStage.SLIMMING) {
    const trajectory = await em.findOneOrFail(SlimmingTrajectory, job.subjectId!);
    if (trajectory.supernet.id !== supernet.id) return [];
    pipeline.stage = DemoStage.RETRAINING;
    return queueDemoRetraining(em, jobs, supernet, trajectory);
  }
  if (pipeline.stage === DemoStage.RETRAINING) {
    // The retrainings, and the scoring of the picks the walk queued, all end the demo together.
    const left = await em.count(Job, { project: job.project, state: { $in: [JobState.QUEUED, JobState.RUNNING] }, id: { $ne: job.id } });
    if (left === 0) pipeline.stage = DemoStage.DONE;
  }
  return [];
}

/** The demo's walk: MACs budgets at DEMO.budgets of the widest configuration, scored on the whole search hold-out. */
function demoSlimming(supernet: Supernet): StartSlimmingInput {
  const space = supernet.searchSpace;
  const { architecture, options } = networkOf(space);
  const widest = profile(architecture, parseChannelList(architecture, space.maxChannels, options), options, 'reference');
  return Object.assign(new StartSlimmingInput(), {
    supernetId: supernet.id,
    targets: DEMO.budgets.map((fraction) => Math.round(fraction * widest.macs)),
    evalBatchSize: supernet.dataset.searchSize!,
  });
}

/** Uniform baselines matched to the trajectory's budgets, and one retraining (seed 0) of each of them and each pick. */
async function queueDemoRetraining(em: EntityManager, jobs: JobCreator, supernet: Supernet, trajectory: SlimmingTrajectory): Promise<Job[]> {
  const space = supernet.searchSpace;
  const picks = await em.find(TrajectoryPick, { trajectory }, { populate: ['candidate.searchSpace'], orderBy: { target: 'desc' } });
  const baselines: Candidate[] = [];
  for (const { width, channels } of uniformMatching(space, trajectory, 'demo')) {
    baselines.push(await upsertCandidate(em, space, channels, CandidateSource.UNIFORM, { widthMultiplier: width }));
  }
  const recipe = { ...recipeFor(checkTrainingRecipe('demo.recipe', Object.assign(new RetrainRecipeInput(), { epochs: DEMO.retrainEpochs })), supernet.dataset) };
  const queued: Job[] = [];
  for (const candidate of new Set([...picks.map((p) => p.candidate), ...baselines])) {
    queued.push((await queueRetraining(em, jobs, candidate, supernet.dataset, recipe, 0)).job);
  }
  return queued;
}
