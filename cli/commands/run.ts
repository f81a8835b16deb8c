import { ApiError, type Api } from '../api';
import type { Io } from '../io';
import { followRegistration } from './registration-progress';
import { waitForJobs } from '../jobs';
import { loadPipeline, type Pipeline } from '../pipeline';
import { defined } from '../shape';
import { printLeaderboard } from './leaderboard';

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

/** Runs a whole search: train the supernet, slim it, retrain what it found next to uniform baselines. */
export async function runPipeline(api: Api, io: Io, file: string): Promise<void> {
  const pipeline = loadPipeline(file);
  const projectId = await during('project', ensureProject(api, io, pipeline.project));
  const datasetId = await during('dataset', ensureDataset(api, io, projectId, pipeline.dataset));
  const spaceId = await during('searchSpace', ensureSearchSpace(api, io, projectId, pipeline.searchSpace));

  const { trainSupernet: training } = await during('supernet', api.request<{ trainSupernet: { id: string; payload: { supernetId: string } } }>(
    `mutation($input: TrainSupernetInput!) { trainSupernet(input: $input) { id payload } }`,
    { input: defined({ name: pipeline.supernet.name, searchSpaceId: spaceId, datasetId, recipe: pipeline.supernet.recipe && defined(pipeline.supernet.recipe) }) },
  ));
  await waitForJobs(api, io, projectId, [training.id], 'train supernet');

  const { startSlimming: slimming } = await during('slimming', api.request<{ startSlimming: { id: string; subjectId: string } }>(
    `mutation($input: StartSlimmingInput!) { startSlimming(input: $input) { id subjectId } }`,
    { input: defined({ ...pipeline.slimming, supernetId: training.payload.supernetId }) },
  ));
  await waitForJobs(api, io, projectId, [slimming.id], 'slim');

  if (pipeline.retrain) await during('retrain', retrain(api, io, projectId, datasetId, spaceId, slimming.subjectId, pipeline.retrain));
  await printLeaderboard(api, io, spaceId);
}

async function retrain(
  api: Api,
  io: Io,
  projectId: string,
  datasetId: string,
  spaceId: string,
  trajectoryId: string,
  plan: NonNullable<Pipeline['retrain']>,
): Promise<void> {
  const { candidates } = await api.request<{ candidates: { edges: { node: { id: string } }[] } }>(
    `query($trajectoryId: ID!) { candidates(filter: { trajectoryId: $trajectoryId }, first: 500) { edges { node { id } } } }`,
    { trajectoryId },
  );
  const ids = candidates.edges.map((e) => e.node.id);
  if (plan.uniform) {
    const { createUniformCandidates: uniform } = await api.request<{ createUniformCandidates: { id: string }[] }>(
      `mutation($input: CreateUniformCandidatesInput!) { createUniformCandidates(input: $input) { id } }`,
      { input: { searchSpaceId: spaceId, widths: plan.uniform } },
    );
    ids.push(...uniform.map((c) => c.id));
  }
  io.err(`retraining ${ids.length} candidate(s) with ${plan.seeds?.length ?? 1} seed(s) each\n`);
  const jobIds: string[] = [];
  for (const candidateId of ids) {
    const { retrainCandidate } = await api.request<{ retrainCandidate: { id: string }[] }>(
      `mutation($input: RetrainCandidateInput!) { retrainCandidate(input: $input) { id } }`,
      { input: defined({ candidateId, datasetId, seeds: plan.seeds, recipe: plan.recipe && defined(plan.recipe) }) },
    );
    jobIds.push(...retrainCandidate.map((j) => j.id));
  }
  await waitForJobs(api, io, projectId, jobIds, 'retrain');
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
