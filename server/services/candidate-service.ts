import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { configHash, defaultChannels, MIN_WIDTH_MULTIPLIER, parseChannelList, profile, widestUniformWithin, type ChannelList, type Interval } from '../../autoslim';
import { CandidateOrderField, CandidateSource, CostConstraint, JobKind, ProjectRole, RetrainInit, RunKind, SortDirection } from '../../schema/enums';
import type {
  CandidateFilter,
  CandidateOrder,
  CreateUniformCandidatesInput,
  ImportCandidateInput,
  RetrainCandidateInput,
} from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { Candidate, Dataset, type Job, SearchSpace, SlimmingTrajectory, TrainingRun, TrajectoryPick } from '../entities';
import { badInput } from '../errors';
import type { JobView } from '../jobs/job-view';
import * as check from '../validation';
import { checked } from './autoslim-input';
import type { JobCreator, JobService } from './job-service';
import { filterId, findInProject, inReadableProjects } from './lookup';
import type { Caller } from '../auth/caller';
import { CandidateFigures, type BaselineComparison } from './candidate-figures';
import { candidateSupernet, type CandidateSupernet } from './candidate-supernet';
import { datasetSpec } from './dataset-service';
import { networkOf, searchSpaceSpec, userConfig } from './search-space-service';
import { checkBatchFits, checkImagesFit, checkTrainingRecipe, recipeFor } from './supernet-service';

export const MAX_PAGE_SIZE = 500;
const MAX_SEEDS = 16;

type SortColumn = 'createdAt' | 'macs' | 'params' | 'searchAccuracy' | 'retrainedTop1Mean' | 'measuredLatencyMs';

const COLUMNS: Record<CandidateOrderField, SortColumn> = {
  [CandidateOrderField.CREATED_AT]: 'createdAt',
  [CandidateOrderField.MACS]: 'macs',
  [CandidateOrderField.PARAMS]: 'params',
  [CandidateOrderField.SEARCH_ACCURACY]: 'searchAccuracy',
  [CandidateOrderField.RETRAINED_TOP1]: 'retrainedTop1Mean',
  [CandidateOrderField.MEASURED_LATENCY]: 'measuredLatencyMs',
};

/** Where the previous page ended: the sort value (null sorts last) and the id that breaks ties. */
interface Cursor {
  readonly value: number | string | null;
  readonly id: string;
}

export interface CandidatePage {
  readonly edges: { cursor: string; node: Candidate }[];
  readonly pageInfo: { hasNextPage: boolean; endCursor: string | null };
  readonly totalCount: number;
}

export class CandidateService {
  private readonly figures = new WeakMap<Caller, CandidateFigures>();

  constructor(
    private readonly orm: Orm,
    private readonly jobs: JobService,
  ) {}

  /** Keyset pagination: a page is stable under inserts elsewhere in the order. */
  async list(caller: Caller, filter: CandidateFilter, order: CandidateOrder, first: number, after: string | null | undefined): Promise<CandidatePage> {
    check.integer('first', first, 1, MAX_PAGE_SIZE);
    const column = COLUMNS[order.field];
    const ascending = order.direction === SortDirection.ASC;
    const em = this.orm.em.fork();
    const where = { ...(await inReadableProjects(caller, 'filter.projectId', filter.projectId)), ...(await filterQuery(em, caller, filter)) } as FilterQuery<Candidate>;
    const totalCount = await em.count(Candidate, where);
    const page = after ? { $and: [where, afterCursor(column, ascending, decodeCursor(after))] } : where;
    const rows = await em.find(Candidate, page as FilterQuery<Candidate>, {
      orderBy: [{ [column]: ascending ? 'asc nulls last' : 'desc nulls last' }, { id: 'asc' }],
      limit: first + 1,
    });
    const nodes = rows.slice(0, first);
    const edges = nodes.map((node) => ({ cursor: encodeCursor(column, node), node }));
    return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
  }

  get(caller: Caller, id: string): Promise<Candidate> {
    return findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, Candidate, 'candidate', 'id', id);
  }

  /**
   * Uniform width-multiplier baselines, at the widths given or matched to a trajectory's budgets;
   * asking twice for one configuration returns the same candidate.
   */
  async createUniform(caller: Caller, input: CreateUniformCandidatesInput): Promise<Candidate[]> {
    const { widths, matchTrajectory } = input;
    if (widths && matchTrajectory) throw badInput('input.matchTrajectory', 'give widths or matchTrajectory, not both');
    if (!widths && !matchTrajectory) throw badInput('input.widths', 'give widths, or matchTrajectory to match its budgets');
    if (widths) check.list('input.widths', widths, 1, 64);
    return this.orm.em.fork().transactional(async (em) => {
      const space = await findInProject(em, caller, ProjectRole.EDITOR, SearchSpace, 'search space', 'input.searchSpaceId', input.searchSpaceId);
      const picks = widths ? givenWidths(space, widths) : await matchedWidths(em, caller, space, matchTrajectory!);
      const out: Candidate[] = [];
      for (const { width, channels } of picks) {
        out.push(await upsertCandidate(em, space, channels, CandidateSource.UNIFORM, { widthMultiplier: width }));
      }
      return out;
    });
  }

  async import(caller: Caller, input: ImportCandidateInput): Promise<Candidate> {
    return this.orm.em.fork().transactional(async (em) => {
      const space = await findInProject(em, caller, ProjectRole.EDITOR, SearchSpace, 'search space', 'input.searchSpaceId', input.searchSpaceId);
      return upsertCandidate(em, space, userConfig(space, input.channels, 'input'), CandidateSource.IMPORTED, {});
    });
  }

  /**
   * One RETRAIN job and training run per seed, created together; from scratch, or from the
   * candidate's slices of a supernet's latest checkpoint (pinned in the payload when queued).
   */
  async retrain(caller: Caller, input: RetrainCandidateInput): Promise<JobView[]> {
    checkSeeds('input.seeds', input.seeds);
    const init = input.init ?? RetrainInit.SCRATCH;
    if (input.supernetId && init !== RetrainInit.SUPERNET) throw badInput('input.supernetId', 'is only for init: SUPERNET');
    const checked = checkTrainingRecipe('input.recipe', { ...input.recipe });
    const jobs = await this.orm.em.fork().transactional(async (em) => {
      const candidate = await findInProject(em, caller, ProjectRole.EDITOR, Candidate, 'candidate', 'input.candidateId', input.candidateId);
      await em.populate(candidate, ['searchSpace']);
      const dataset = await findInProject(em, caller, ProjectRole.VIEWER, Dataset, 'dataset', 'input.datasetId', input.datasetId);
      if (dataset.project.id !== candidate.project.id) throw badInput('input.datasetId', 'dataset belongs to another project than the candidate');
      if (dataset.numClasses !== candidate.searchSpace.numClasses) {
        throw badInput('input.datasetId', `dataset has ${dataset.numClasses} classes, the candidate's search space ${candidate.searchSpace.numClasses}`);
      }
      checkImagesFit('input.datasetId', dataset, candidate.searchSpace);
      const recipe = recipeFor(checked, dataset);
      checkBatchFits('input.recipe.batchSize', recipe.batchSize, dataset);
      const start =
        init === RetrainInit.SUPERNET
          ? await candidateSupernet(em, caller, candidate, input.supernetId, 'input.supernetId', 'give supernetId, or init: SCRATCH')
          : null;
      const queued = [];
      for (const seed of input.seeds) queued.push((await queueRetraining(em, this.jobs, candidate, dataset, recipe, seed, start)).job);
      return queued;
    });
    return jobs.map((job) => this.jobs.announce(job));
  }

  /**
   * From-scratch retrainings: mean test top-1 over seeds (the latest finished run of each) with its
   * 95% t-interval, over the runs of the protocol of the one that finished last (retrained-top1.ts).
   */
  retrainedTop1(caller: Caller, candidate: Candidate): Promise<Interval | null> {
    return this.figuresFor(caller).top1(candidate, RetrainInit.SCRATCH);
  }

  /** The same over retrainings that started from the candidate's slices of a supernet. */
  fineTunedTop1(caller: Caller, candidate: Candidate): Promise<Interval | null> {
    return this.figuresFor(caller).top1(candidate, RetrainInit.SUPERNET);
  }

  /** An AutoSlim candidate against the uniform candidate of its budget; null for other sources or when no uniform one fits. */
  comparison(caller: Caller, candidate: Candidate): Promise<BaselineComparison | null> {
    return this.figuresFor(caller).comparison(candidate);
  }

  runs(candidateId: string): Promise<TrainingRun[]> {
    return this.orm.em.fork().find(TrainingRun, { candidateId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** A Caller lives for one request (or one subscription), so batches never mix callers. */
  private figuresFor(caller: Caller): CandidateFigures {
    let figures = this.figures.get(caller);
    if (!figures) {
      figures = new CandidateFigures(this.orm);
      this.figures.set(caller, figures);
    }
    return figures;
  }
}

/** Seeds of a retraining: 1 to 16, distinct, each an unsigned 32-bit integer. */
export function checkSeeds(field: string, seeds: readonly number[]): void {
  check.list(field, seeds, 1, MAX_SEEDS);
  seeds.forEach((seed, i) => check.integer(`${field}[${i}]`, seed, 0, 0xffffffff));
  if (new Set(seeds).size !== seeds.length) throw badInput(field, 'must not repeat a seed');
}

/**
 * A training run retraining `candidate` (its search space loaded) with one seed, and its RETRAIN
 * job, in the caller's transaction; `recipe` is stored on the run as it is. From scratch unless
 * `start` names the supernet checkpoint whose slices it starts from.
 */
export async function queueRetraining(
  em: EntityManager,
  jobs: JobCreator,
  candidate: Candidate,
  dataset: Dataset,
  recipe: Record<string, unknown>,
  seed: number,
  start: CandidateSupernet | null = null,
): Promise<{ run: TrainingRun; job: Job }> {
  const init = start ? RetrainInit.SUPERNET : RetrainInit.SCRATCH;
  const run = em.create(TrainingRun, {
    project: candidate.project,
    kind: RunKind.RETRAIN,
    seed,
    recipe: { ...recipe },
    candidateId: candidate.id,
    datasetId: dataset.id,
    init,
    supernetId: start?.supernet.id ?? null,
  });
  const job = await jobs.create(em, {
    project: candidate.project,
    kind: JobKind.RETRAIN,
    payload: {
      candidateId: candidate.id,
      runId: run.id,
      searchSpace: searchSpaceSpec(candidate.searchSpace),
      datasetId: dataset.id,
      dataset: await datasetSpec(em, dataset),
      channels: candidate.channels,
      recipe: { ...recipe, seed },
      init,
      ...(start && { supernetId: start.supernet.id, initCheckpoint: { uri: start.checkpoint.uri, sha256: start.checkpoint.sha256 } }),
    },
    subjectType: TrainingRun.name,
    subjectId: run.id,
  });
  return { run, job };
}

/** The candidate of `channels` from `source` in the search space: the stored one, or a new one. */
export async function upsertCandidate(
  em: EntityManager,
  space: SearchSpace,
  channels: ChannelList,
  source: CandidateSource,
  extra: Partial<Candidate>,
): Promise<Candidate> {
  const { architecture, options } = networkOf(space);
  const structure = parseChannelList(architecture, space.maxChannels, options);
  const hash = configHash(architecture, channels);
  const existing = await em.findOne(Candidate, { searchSpace: space, configHash: hash, source });
  if (existing) return existing;
  const cost = profile(architecture, channels, options, 'reference', structure);
  return em.create(Candidate, {
    project: space.project,
    searchSpace: space,
    configHash: hash,
    channels: [...channels],
    source,
    macs: cost.macs,
    params: cost.params,
    ...extra,
  });
}

/** A configuration to make a uniform candidate of, and its width multiplier. */
export interface UniformPick {
  readonly width: number;
  readonly channels: ChannelList;
}

function givenWidths(space: SearchSpace, widths: readonly number[]): UniformPick[] {
  const { architecture, options } = networkOf(space);
  const structure = parseChannelList(architecture, space.maxChannels, options);
  return widths.map((width, i) =>
    checked(`input.widths[${i}]`, () => {
      check.finite(`input.widths[${i}]`, width, MIN_WIDTH_MULTIPLIER, space.maxWidth);
      return { width, channels: parseChannelList(architecture, defaultChannels(architecture, width, options), options, structure) };
    }),
  );
}

/** One pick per target of the trajectory: the widest uniform width whose cost, in the trajectory's unit, fits it. */
async function matchedWidths(em: EntityManager, caller: Caller, space: SearchSpace, trajectoryId: string): Promise<UniformPick[]> {
  const field = 'input.matchTrajectory';
  const trajectory = await findInProject(em, caller, ProjectRole.EDITOR, SlimmingTrajectory, 'trajectory', field, trajectoryId);
  await em.populate(trajectory, ['supernet']);
  if (trajectory.supernet.searchSpace.id !== space.id) throw badInput(field, 'is a trajectory of another search space than input.searchSpaceId');
  return uniformMatching(space, trajectory, field);
}

/** One pick per target of `trajectory`, a walk of a supernet of `space`; errors name `field`. */
export function uniformMatching(space: SearchSpace, trajectory: SlimmingTrajectory, field: string): UniformPick[] {
  if (trajectory.constraint === CostConstraint.LATENCY) {
    throw badInput(field, 'is a LATENCY trajectory: uniform baselines match MACS or PARAMS budgets, and a width has no latency without a measurement');
  }
  const metric = trajectory.constraint === CostConstraint.MACS ? 'macs' : 'params';
  const { architecture, options } = networkOf(space);
  const structure = parseChannelList(architecture, space.maxChannels, options);
  const matches = widestUniformWithin(architecture, options, structure, metric, space.maxWidth, trajectory.targets);
  return matches.map((match, i) => {
    if (match) return match;
    const narrowest = profile(architecture, parseChannelList(architecture, defaultChannels(architecture, MIN_WIDTH_MULTIPLIER, options), options, structure), options, 'reference', structure);
    throw badInput(field, `target ${trajectory.targets[i]} (targets[${i}]) is below the ${narrowest[metric]} ${metric} of the narrowest uniform width, ${MIN_WIDTH_MULTIPLIER}`);
  });
}

async function filterQuery(em: EntityManager, caller: Caller, filter: CandidateFilter): Promise<Record<string, unknown>> {
  const where: Record<string, unknown> = {};
  if (filter.searchSpaceId) where.searchSpace = (await filterId(em, caller, SearchSpace, 'search space', 'filter.searchSpaceId', filter.searchSpaceId)) ?? { $in: [] };
  if (filter.trajectoryId) {
    const trajectoryId = await filterId(em, caller, SlimmingTrajectory, 'trajectory', 'filter.trajectoryId', filter.trajectoryId);
    where.id = { $in: trajectoryId ? await pickedBy(em, trajectoryId) : [] };
  }
  if (filter.source) where.source = filter.source;
  if (filter.maxMacs != null) where.macs = { $lte: check.finite('filter.maxMacs', filter.maxMacs, 0, Number.MAX_VALUE) };
  if (filter.maxParams != null) where.params = { $lte: check.finite('filter.maxParams', filter.maxParams, 0, Number.MAX_VALUE) };
  return where;
}

/** The candidates a trajectory picked, whichever trajectory found them first: at most one per target. */
async function pickedBy(em: EntityManager, trajectoryId: string): Promise<string[]> {
  const picks = await em.find(TrajectoryPick, { trajectory: trajectoryId }, { fields: ['candidate'] });
  return [...new Set(picks.map((p) => p.candidate.id))];
}

function encodeCursor(column: SortColumn, node: Candidate): string {
  const raw = node[column];
  const value = raw instanceof Date ? raw.toISOString() : raw;
  return Buffer.from(JSON.stringify({ value, id: node.id } satisfies Cursor)).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed.id !== 'string' || !['number', 'string'].includes(typeof parsed.value) && parsed.value !== null) throw new Error();
    return parsed;
  } catch {
    throw badInput('after', 'is not a cursor this API returned');
  }
}

/** Rows strictly after the cursor in (value nulls last, id) order. */
function afterCursor(column: SortColumn, ascending: boolean, cursor: Cursor): Record<string, unknown> {
  const value = column === 'createdAt' && typeof cursor.value === 'string' ? new Date(cursor.value) : cursor.value;
  if (value === null) return { [column]: null, id: { $gt: cursor.id } };
  return {
    $or: [
      { [column]: { [ascending ? '$gt' : '$lt']: value } },
      { [column]: value, id: { $gt: cursor.id } },
      { [column]: null },
    ],
  };
}
