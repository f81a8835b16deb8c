import { ApiError, type Api } from '../api';
import type { Io } from '../io';
import { followRegistration } from './registration-progress';
import { waitForJobs } from '../jobs';
import { checkBeforeCreating, loadPipeline, type Pipeline } from '../pipeline';
import { defined } from '../shape';
import { printLeaderboard } from './leaderboard';
import { printVerdicts } from './verdicts';

/** The server names the GraphQL input field; this says which section of the pipeline it came from. */
async function during<T>(section: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ApiError) throw new ApiError(`pipeline section ${section}: ${error.message}`, error.code);
    throw error;
  }
}

interface Named {
  id: string;
  name: string;
}

/** Wall time of each stage, for the closing summary. */
class Stages {
  private readonly times: [string, number][] = [];

  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.times.push([name, (performance.now() - started) / 1000]);
    }
  }

  print(io: Io): void {
    io.out('\nWall time per stage:\n');
    for (const [name, seconds] of this.times) io.out(`  ${name.padEnd(28)} ${minutes(seconds)}\n`);
  }
}

function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

/**
 * Runs a whole search: train the supernet, slim it (once per BN mode asked for), retrain what it
 * found next to uniform baselines, optionally study how well the supernet ranks configurations,
 * and close with the verdicts.
 */
export async function runPipeline(api: Api, io: Io, file: string): Promise<void> {
  const pipeline = loadPipeline(file);
  checkBeforeCreating(pipeline, file);
  const stages = new Stages();
  const projectId = await during('project', ensureProject(api, io, pipeline.project));
  const datasetId = await during('dataset', stages.time('register dataset', () => ensureDataset(api, io, projectId, pipeline.dataset)));
  const spaceId = await during('searchSpace', ensureSearchSpace(api, io, projectId, pipeline.searchSpace));

  const { trainSupernet: training } = await during('supernet', api.request<{ trainSupernet: { id: string; payload: { supernetId: string } } }>(
    `mutation($input: TrainSupernetInput!) { trainSupernet(input: $input) { id payload } }`,
    { input: defined({ name: pipeline.supernet.name, searchSpaceId: spaceId, datasetId, recipe: pipeline.supernet.recipe && defined(pipeline.supernet.recipe) }) },
  ));
  const supernetId = training.payload.supernetId;
  await stages.time('train supernet', () => waitForJobs(api, io, projectId, [training.id], 'train supernet'));

  const { bnModes, ...slimmingInput } = pipeline.slimming;
  const trajectoryIds: string[] = [];
  for (const bnMode of bnModes ?? [slimmingInput.bnMode]) {
    const { startSlimming: slimming } = await during('slimming', api.request<{ startSlimming: { id: string; subjectId: string } }>(
      `mutation($input: StartSlimmingInput!) { startSlimming(input: $input) { id subjectId } }`,
      { input: defined({ ...slimmingInput, bnMode, supernetId }) },
    ));
    const label = `slim${bnMode ? ` (${bnMode})` : ''}`;
    await stages.time(label, () => waitForJobs(api, io, projectId, [slimming.id], label));
    trajectoryIds.push(slimming.subjectId);
  }

  if (pipeline.retrain) {
    const plan = pipeline.retrain;
    await during('retrain', stages.time('retrain', () => retrain(api, io, { projectId, datasetId, spaceId, trajectoryIds }, plan)));
  }
  const studyId = pipeline.study ? await during('study', stages.time('ranking study', () => runStudy(api, io, projectId, supernetId, pipeline))) : null;
  await printLeaderboard(api, io, spaceId);
  await printVerdicts(api, io, trajectoryIds, studyId);
  stages.print(io);
}

interface Scope {
  projectId: string;
  datasetId: string;
  spaceId: string;
  trajectoryIds: readonly string[];
}

async function retrain(api: Api, io: Io, scope: Scope, plan: NonNullable<Pipeline['retrain']>): Promise<void> {
  const ids = new Set<string>();
  for (const trajectoryId of scope.trajectoryIds) {
    const { candidates } = await api.request<{ candidates: { edges: { node: { id: string } }[] } }>(
      `query($trajectoryId: ID!) { candidates(filter: { trajectoryId: $trajectoryId }, first: 500) { edges { node { id } } } }`,
      { trajectoryId },
    );
    for (const e of candidates.edges) ids.add(e.node.id);
    if (plan.uniform === 'match') {
      for (const id of await uniformCandidates(api, { searchSpaceId: scope.spaceId, matchTrajectory: trajectoryId })) ids.add(id);
    }
  }
  if (Array.isArray(plan.uniform)) for (const id of await uniformCandidates(api, { searchSpaceId: scope.spaceId, widths: plan.uniform })) ids.add(id);
  io.err(`retraining ${ids.size} candidate(s) with ${plan.seeds?.length ?? 1} seed(s) each\n`);
  const jobIds: string[] = [];
  for (const candidateId of ids) {
    const { retrainCandidate } = await api.request<{ retrainCandidate: { id: string }[] }>(
      `mutation($input: RetrainCandidateInput!) { retrainCandidate(input: $input) { id } }`,
      { input: defined({ candidateId, datasetId: scope.datasetId, seeds: plan.seeds, recipe: plan.recipe && defined(plan.recipe) }) },
    );
    jobIds.push(...retrainCandidate.map((j) => j.id));
  }
  await waitForJobs(api, io, scope.projectId, jobIds, 'retrain');
}

async function uniformCandidates(api: Api, input: Record<string, unknown>): Promise<string[]> {
  const { createUniformCandidates } = await api.request<{ createUniformCandidates: { id: string }[] }>(
    `mutation($input: CreateUniformCandidatesInput!) { createUniformCandidates(input: $input) { id } }`,
    { input },
  );
  return createUniformCandidates.map((c) => c.id);
}

/**
 * Studies the supernet's ranking with the retraining's seeds and recipe, and the walks' evaluation
 * (batches, calibration), unless the study sets its own: its τ then measures the scoring the walks used.
 */
async function runStudy(api: Api, io: Io, projectId: string, supernetId: string, pipeline: Pipeline): Promise<string> {
  const { recipe, seeds, ...settings } = pipeline.study!;
  const { evalBatchSize, evalSeed, evalBatches, calibrationImages, calibrationSeed } = pipeline.slimming;
  const input = defined({
    ...defined({ evalBatchSize, evalSeed, evalBatches, calibrationImages, calibrationSeed }),
    ...defined(settings),
    supernetId,
    seeds: seeds ?? pipeline.retrain?.seeds ?? [0],
    recipe: defined(recipe ?? pipeline.retrain?.recipe ?? {}),
  });
  const { studyRanking } = await api.request<{ studyRanking: { id: string; jobs: { id: string }[] } }>(
    `mutation($input: StudyRankingInput!) { studyRanking(input: $input) { id jobs { id } } }`,
    { input },
  );
  io.err(`ranking study: ${studyRanking.jobs.length} job(s), finished ones included\n`);
  await waitForJobs(api, io, projectId, studyRanking.jobs.map((j) => j.id), 'ranking study');
  return studyRanking.id;
}

/** Projects are unique by name, so running a pipeline again adds to the same project. */
async function ensureProject(api: Api, io: Io, project: Pipeline['project']): Promise<string> {
  const { projects } = await api.request<{ projects: Named[] }>(`{ projects { id name } }`);
  const existing = projects.find((p) => p.name === project.name);
  if (existing) {
    io.err(`using existing project "${project.name}"\n`);
    return existing.id;
  }
  const { createProject } = await api.request<{ createProject: Named }>(
    `mutation($input: CreateProjectInput!) { createProject(input: $input) { id name } }`,
    { input: defined(project) },
  );
  return createProject.id;
}

async function ensureDataset(api: Api, io: Io, projectId: string, dataset: Pipeline['dataset']): Promise<string> {
  const { datasets } = await api.request<{ datasets: Named[] }>(`query($p: ID) { datasets(projectId: $p) { id name } }`, { p: projectId });
  const existing = datasets.find((d) => d.name === dataset.name);
  if (existing) {
    io.err(`using existing dataset "${dataset.name}"\n`);
    return existing.id;
  }
  // A large folder takes a while to read: its progress is shown as the server reports it.
  const stop = dataset.format === 'SYNTHETIC' ? () => undefined : await followRegistration(api, io, projectId, dataset.name);
  try {
    const { registerDataset } = await api.request<{ registerDataset: Named }>(
      `mutation($input: RegisterDatasetInput!) { registerDataset(input: $input) { id name } }`,
      // A synthetic dataset left without sizes gets the server's default sizes.
      { input: defined({ ...dataset, projectId, synthetic: dataset.format === 'SYNTHETIC' ? defined(dataset.synthetic ?? {}) : undefined }) },
    );
    return registerDataset.id;
  } finally {
    stop();
  }
}


async function ensureSearchSpace(api: Api, io: Io, projectId: string, space: Pipeline['searchSpace']): Promise<string> {
  const { searchSpaces } = await api.request<{ searchSpaces: Named[] }>(`query($p: ID) { searchSpaces(projectId: $p) { id name } }`, { p: projectId });
  const existing = searchSpaces.find((s) => s.name === space.name);
  if (existing) {
    io.err(`using existing search space "${space.name}"\n`);
    return existing.id;
  }
  const { createSearchSpace } = await api.request<{ createSearchSpace: Named }>(
    `mutation($input: CreateSearchSpaceInput!) { createSearchSpace(input: $input) { id name } }`,
    { input: defined({ ...space, projectId }) },
  );
  return createSearchSpace.id;
}
