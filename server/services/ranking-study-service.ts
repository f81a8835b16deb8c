import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import { AutoSlimError, meanInterval, profile, rankAgreement, spreadConfigs, type Interval, type RankAgreement } from '../../autoslim';
import { Rng } from '../../executors/rng';
import { resolveSearchSpace } from '../../executors/search-space';
import { BnMode, CandidateSource, JobKind, JobState, ProjectRole, RetrainInit, RunKind, RunStatus, StudyConfigOrigin } from '../../schema/enums';
import type { StudyRankingInput } from '../../schema/inputs';
import { BatchLoader } from '../batch-loader';
import type { Orm } from '../db/orm';
import { Candidate, type Dataset, Job, RankingStudy, RankingStudyConfig, type SearchSpace, Supernet, TrainingRun, TrajectoryPick, type StudyRun } from '../entities';
import { badInput, userError } from '../errors';
import { jobView, type JobView } from '../jobs/job-view';
import * as check from '../validation';
import { checkSeeds, queueRetraining, upsertCandidate } from './candidate-service';
import { evaluatePayload, queueInheritedAccuracy } from './evaluation-jobs';
import type { JobService } from './job-service';
import { findInProject } from './lookup';
import { protocolOf } from './run-protocol';
import type { Caller } from '../auth/caller';
import { MAX_CALIBRATION_IMAGES } from './export-service';
import { searchSpaceSpec } from './search-space-service';
import { checkCalibrationFits, MAX_EVAL_BATCHES } from './slimming-service';
import { checkBatchFits, checkTrainingRecipe, recipeFor } from './supernet-service';

export const MAX_SAMPLED_CONFIGS = 64;
/** Random configurations the sampled ones are chosen from: about 0.3 s of profiling. */
const SAMPLE_DRAWS = 1024;
/** The bootstrap of every correlation: enough resamples for a stable 95% interval, seeded so a figure shown twice is the same. */
const BOOTSTRAP = { resamples: 2000, seed: 0 } as const;

/** One BN mode's rank correlations over the configurations that have a score and a retrained accuracy. */
export interface RankCorrelation extends RankAgreement {
  readonly bnMode: BnMode;
  readonly configs: number;
}

/** A request's batched reads. */
interface StudyLoaders {
  readonly configs: BatchLoader<string, RankingStudyConfig[]>;
  readonly retrainedTop1: BatchLoader<RankingStudyConfig, Interval | null>;
}

/** A study configuration's retrained top-1s: one per finished run of the study's seeds. */
interface Retrained {
  readonly config: RankingStudyConfig;
  readonly top1: readonly number[];
}

/**
 * Ranking-quality studies (TRUST.md, "Measuring ranking quality"): does the supernet rank
 * configurations as retraining them from scratch does?
 */
export class RankingStudyService {
  private readonly loaders = new WeakMap<Caller, StudyLoaders>();

  constructor(
    private readonly orm: Orm,
    private readonly jobs: JobService,
  ) {}

  /**
   * Picks the configurations, stores the study and queues, in one transaction: the EVALUATE job
   * that scores every configuration from the supernet under both BN modes, the inherited accuracy
   * of the uniform baselines that have none, and one RETRAIN job per configuration and seed that
   * no identical run (same candidate, seed and stored recipe, not failed) already covers.
   */
  async study(caller: Caller, input: StudyRankingInput): Promise<RankingStudy> {
    const settings = {
      sampledConfigs: check.integer('input.sampledConfigs', input.sampledConfigs, 0, MAX_SAMPLED_CONFIGS),
      sampleSeed: check.integer('input.sampleSeed', input.sampleSeed, 0, 0xffffffff),
      evalBatchSize: check.integer('input.evalBatchSize', input.evalBatchSize, 1, 65_536),
      evalSeed: check.integer('input.evalSeed', input.evalSeed, 0, 0xffffffff),
      evalBatches: check.integer('input.evalBatches', input.evalBatches, 1, MAX_EVAL_BATCHES),
      calibrationImages: check.integer('input.calibrationImages', input.calibrationImages, 2, MAX_CALIBRATION_IMAGES),
      calibrationSeed: check.integer('input.calibrationSeed', input.calibrationSeed, 0, 0xffffffff),
    };
    checkSeeds('input.seeds', input.seeds);
    const seeds = [...input.seeds];
    const checkedRecipe = checkTrainingRecipe('input.recipe', { ...input.recipe });
    const { study, queued } = await this.orm.em.fork().transactional(async (em) => {
      const supernet = await findInProject(em, caller, ProjectRole.EDITOR, Supernet, 'supernet', 'input.supernetId', input.supernetId);
      await em.populate(supernet, ['run.checkpoint', 'dataset', 'searchSpace']);
      const checkpoint = supernet.run.checkpoint;
      if (!checkpoint) {
        throw userError('FAILED_PRECONDITION', 'input.supernetId', 'the supernet has no checkpoint yet; wait for its training to save one');
      }
      const dataset = supernet.dataset;
      if (settings.evalBatchSize > dataset.searchSize!) {
        throw badInput('input.evalBatchSize', `the search hold-out has only ${dataset.searchSize} images`);
      }
      checkCalibrationFits('input.calibrationImages', settings.calibrationImages, dataset);
      const recipe: Record<string, unknown> = { ...recipeFor(checkedRecipe, dataset) };
      checkBatchFits('input.recipe.batchSize', recipe.batchSize as number, dataset);

      const order = { orderBy: { macs: 'asc', id: 'asc' } } as const;
      const uniform = await em.find(Candidate, { searchSpace: supernet.searchSpace, source: CandidateSource.UNIFORM }, order);
      // Every trajectory's picks, including configurations a trajectory of another supernet found first.
      const picks = await em.find(TrajectoryPick, { trajectory: { supernet } }, { fields: ['candidate'] });
      const autoslim = await em.find(Candidate, { id: { $in: picks.map((p) => p.candidate.id) }, source: CandidateSource.AUTOSLIM }, order);
      const sampled = await sampleCandidates(em, supernet.searchSpace, settings.sampledConfigs, settings.sampleSeed, [...uniform, ...autoslim]);
      const members: [Candidate, StudyConfigOrigin][] = [
        ...sampled.map((c): [Candidate, StudyConfigOrigin] => [c, StudyConfigOrigin.SAMPLED]),
        ...uniform.map((c): [Candidate, StudyConfigOrigin] => [c, StudyConfigOrigin.UNIFORM]),
        ...autoslim.map((c): [Candidate, StudyConfigOrigin] => [c, StudyConfigOrigin.AUTOSLIM]),
      ];
      if (members.length < 2) {
        throw badInput(
          'input.sampledConfigs',
          `a rank correlation needs at least two configurations; the search space has ${uniform.length} uniform and the supernet ${autoslim.length} AutoSlim candidate(s), and ${settings.sampledConfigs} were asked to be sampled`,
        );
      }
      const candidates = members.map(([c]) => c);

      const studyId = randomUUID();
      const evaluation = await this.jobs.create(em, {
        project: supernet.project,
        kind: JobKind.EVALUATE,
        payload: {
          ...(await evaluatePayload(em, supernet, checkpoint, candidates, {
            split: 'SEARCH',
            bnModes: [BnMode.BATCH_STATS, BnMode.RECALIBRATED],
            evalBatchSize: settings.evalBatchSize,
            evalSeed: settings.evalSeed,
            evalBatches: settings.evalBatches,
            calibrationImages: settings.calibrationImages,
            calibrationSeed: settings.calibrationSeed,
          })),
        },
        subjectType: RankingStudy.name,
        subjectId: studyId,
      });
      const inherited = await queueInheritedAccuracy(
        em,
        this.jobs.queue,
        supernet,
        checkpoint,
        uniform.filter((c) => c.inheritedTop1 === null),
      );
      const study = em.create(RankingStudy, { id: studyId, project: supernet.project, supernet, dataset, seeds, recipe, ...settings, evaluationJob: evaluation });
      const { runs, retrainings } = await this.retrainings(em, candidates, dataset, recipe, seeds);
      members.forEach(([candidate, origin], i) => em.create(RankingStudyConfig, { study, candidate, origin, runs: runs[i]! }));
      await em.flush();
      return { study, queued: [evaluation, ...(inherited ? [inherited] : []), ...retrainings] };
    });
    queued.forEach((job) => this.jobs.announce(job));
    return study;
  }

  get(caller: Caller, id: string): Promise<RankingStudy> {
    return findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, RankingStudy, 'ranking study', 'id', id);
  }

  /** The studies of a supernet the caller has already been allowed to see. */
  listForSupernet(supernetId: string): Promise<RankingStudy[]> {
    return this.orm.em.fork().find(RankingStudy, { supernet: supernetId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** A study's configurations with their candidates, cheapest first; the studies of one request in one query. */
  configs(caller: Caller, studyId: string): Promise<RankingStudyConfig[]> {
    return this.loadersFor(caller).configs.load(studyId);
  }

  /**
   * Mean retrained top-1 of a configuration over the study's seeds with its t-interval; null until
   * a run finished. The configurations of one request are read in one query.
   */
  retrainedTop1(caller: Caller, config: RankingStudyConfig): Promise<Interval | null> {
    return this.loadersFor(caller).retrainedTop1.load(config);
  }

  /** τ and ρ per BN mode between supernet accuracy and mean retrained top-1, computed from what has come in. */
  async correlations(studyId: string): Promise<RankCorrelation[]> {
    const em = this.orm.em.fork();
    const retrained = await this.retrained(em, await em.find(RankingStudyConfig, { study: studyId }));
    return [BnMode.BATCH_STATS, BnMode.RECALIBRATED].map((bnMode) => {
      const pairs = retrained.flatMap(({ config, top1 }) => {
        const score = config.scores.find((s) => s.bnMode === bnMode);
        return score && top1.length ? [{ score: score.accuracy, retrained: top1.reduce((a, b) => a + b, 0) / top1.length }] : [];
      });
      const agreement = rankAgreement(
        pairs.map((p) => p.score),
        pairs.map((p) => p.retrained),
        BOOTSTRAP,
      );
      return { bnMode, configs: pairs.length, ...agreement };
    });
  }

  /** The evaluation succeeded and every retraining run of the study finished: the correlations are final. */
  async complete(study: RankingStudy): Promise<boolean> {
    const em = this.orm.em.fork();
    const evaluation = await em.findOneOrFail(Job, study.evaluationJob.id);
    if (evaluation.state !== JobState.SUCCEEDED) return false;
    const runIds = (await em.find(RankingStudyConfig, { study })).flatMap((c) => c.runs.map((r) => r.runId));
    return (await em.count(TrainingRun, { id: { $in: runIds }, status: { $ne: RunStatus.FINISHED } })) === 0;
  }

  /**
   * What the study waits on: its evaluation and the RETRAIN jobs of its runs, reused runs
   * included (the latest job of each, so a retried run shows its retry).
   */
  async waitedOn(study: RankingStudy): Promise<JobView[]> {
    const em = this.orm.em.fork();
    const runIds = (await em.find(RankingStudyConfig, { study })).flatMap((c) => c.runs.map((r) => r.runId));
    const retrainings = await em.find(Job, { kind: JobKind.RETRAIN, subjectId: { $in: runIds } }, { orderBy: { createdAt: 'desc', id: 'asc' } });
    const latest = new Map<string, Job>();
    for (const job of retrainings) if (!latest.has(job.subjectId!)) latest.set(job.subjectId!, job);
    const evaluation = await em.findOneOrFail(Job, study.evaluationJob.id);
    return [evaluation, ...latest.values()].map(jobView);
  }

  async evaluationJob(study: RankingStudy): Promise<JobView> {
    return jobView(await this.orm.em.fork().findOneOrFail(Job, study.evaluationJob.id));
  }

  /**
   * For each candidate, one run per seed: a retraining from scratch of the same candidate and seed
   * under the same protocol (dataset and stored recipe) that has not failed or been cancelled (the
   * earliest), else a new one with its RETRAIN job. Runs are in `candidates` order, each in seed order.
   */
  private async retrainings(
    em: EntityManager,
    candidates: readonly Candidate[],
    dataset: Dataset,
    recipe: Record<string, unknown>,
    seeds: readonly number[],
  ): Promise<{ runs: StudyRun[][]; retrainings: Job[] }> {
    const wanted = protocolOf({ datasetId: dataset.id, recipe }).key;
    const existing = await em.find(
      TrainingRun,
      {
        kind: RunKind.RETRAIN,
        init: RetrainInit.SCRATCH,
        candidateId: { $in: candidates.map((c) => c.id) },
        datasetId: dataset.id,
        seed: { $in: [...seeds] },
        status: { $nin: [RunStatus.FAILED, RunStatus.CANCELLED] },
      },
      { orderBy: { createdAt: 'asc', id: 'asc' } },
    );
    const reusable = new Map<string, TrainingRun>();
    for (const run of existing) {
      const key = `${run.candidateId}#${run.seed}`;
      if (!reusable.has(key) && protocolOf(run).key === wanted) reusable.set(key, run);
    }
    const retrainings: Job[] = [];
    const runs: StudyRun[][] = [];
    for (const candidate of candidates) {
      await em.populate(candidate, ['searchSpace']);
      const own: StudyRun[] = [];
      for (const seed of seeds) {
        let run = reusable.get(`${candidate.id}#${seed}`);
        if (!run) {
          const queued = await queueRetraining(em, this.jobs, candidate, dataset, recipe, seed);
          run = queued.run;
          retrainings.push(queued.job);
        }
        own.push({ seed, runId: run.id });
      }
      runs.push(own);
    }
    return { runs, retrainings };
  }

  /** A Caller lives for one request (or one subscription), so batches never mix callers. */
  private loadersFor(caller: Caller): StudyLoaders {
    let loaders = this.loaders.get(caller);
    if (!loaders) {
      loaders = {
        configs: new BatchLoader((ids) => this.fetchConfigs(ids), []),
        retrainedTop1: new BatchLoader(async (configs) => {
          const retrained = await this.retrained(this.orm.em.fork(), configs);
          return new Map(retrained.map(({ config, top1 }) => [config, top1.length ? meanInterval(top1) : null]));
        }, null),
      };
      this.loaders.set(caller, loaders);
    }
    return loaders;
  }

  private async fetchConfigs(studyIds: readonly string[]): Promise<Map<string, RankingStudyConfig[]>> {
    const configs = await this.orm.em
      .fork()
      .find(RankingStudyConfig, { study: { $in: [...studyIds] } }, { populate: ['candidate'], orderBy: { candidate: { macs: 'asc' }, id: 'asc' } });
    const byStudy = new Map<string, RankingStudyConfig[]>();
    for (const config of configs) {
      const own = byStudy.get(config.study.id);
      if (own) own.push(config);
      else byStudy.set(config.study.id, [config]);
    }
    return byStudy;
  }

  /** The top-1 of each configuration's finished runs, loaded in one query. */
  private async retrained(em: EntityManager, configs: readonly RankingStudyConfig[]): Promise<Retrained[]> {
    const ids = configs.flatMap((c) => c.runs.map((r) => r.runId));
    const finished = await em.find(TrainingRun, { id: { $in: ids }, status: RunStatus.FINISHED });
    const top1 = new Map(finished.flatMap((r) => (typeof r.summary?.top1 === 'number' ? [[r.id, r.summary.top1] as const] : [])));
    return configs.map((config) => ({ config, top1: config.runs.flatMap((r) => (top1.has(r.runId) ? [top1.get(r.runId)!] : [])) }));
  }
}

/**
 * `count` candidates of the search space spread evenly over MACs (autoslim spreadConfigs), drawn
 * with `seed`, none with the channels of `others`; a configuration sampled before is the same
 * SAMPLED candidate again.
 */
async function sampleCandidates(
  em: EntityManager,
  space: SearchSpace,
  count: number,
  seed: number,
  others: readonly Candidate[],
): Promise<Candidate[]> {
  const { architecture, options, structure, table } = resolveSearchSpace(searchSpaceSpec(space));
  const rng = new Rng(seed);
  let configs;
  try {
    configs = spreadConfigs(table, (c) => profile(architecture, c, options, 'reference', structure).macs, {
      count,
      draws: SAMPLE_DRAWS,
      rng: () => rng.nextFloat(),
      exclude: others.map((c) => c.channels),
    });
  } catch (error) {
    if (error instanceof AutoSlimError) throw badInput('input.sampledConfigs', `the search space is too small: ${error.message}`);
    throw error;
  }
  const out: Candidate[] = [];
  for (const channels of configs) out.push(await upsertCandidate(em, space, channels, CandidateSource.SAMPLED, {}));
  return out;
}
