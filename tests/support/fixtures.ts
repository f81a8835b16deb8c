import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** An IDX file (unsigned bytes) as the MNIST tools write it. */
export function idxBytes(dims: readonly number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A small MNIST-layout folder: train compressed, test not, as both occur in the wild. */
export function writeIdxDataset(train: number, test: number, size = 8, classes = 10): string {
  const dir = mkdtempSync(join(tmpdir(), 'slimlab-idx-'));
  const split = (n: number) => ({
    images: idxBytes([n, size, size], Uint8Array.from({ length: n * size * size }, (_, i) => (i * 31) % 256)),
    labels: idxBytes([n], Uint8Array.from({ length: n }, (_, i) => i % classes)),
  });
  const t = split(train);
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(t.images));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(t.labels));
  const v = split(test);
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), v.images);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), v.labels);
  return dir;
}

/** Anything that runs GraphQL operations against a server: in-process or a child process. */
export interface GraphQLClient {
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export const JOB_FIELDS = 'id projectId kind state attempts progress progressMessage error backend provider executorName waitingReason subjectId';

/** A project, a synthetic dataset and an mbv2-fmnist search space: what most tests start from. */
export async function seedProject(server: GraphQLClient, name = 'fmnist') {
  const { createProject: project } = await server.gql(`mutation($n: String!) { createProject(input: { name: $n }) { id } }`, { n: name });
  const { registerDataset: dataset } = await server.gql(
    `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "synthetic", format: SYNTHETIC,
        synthetic: { numClasses: 10, trainSize: 400, testSize: 100, channels: 1, size: 28 } }) { id searchSize } }`,
    { p: project.id },
  );
  const { createSearchSpace: space } = await server.gql(
    `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "mbv2", architecture: "mbv2-fmnist", maxWidth: 1.0 }) {
        id maxChannels units { index name max min choices } } }`,
    { p: project.id },
  );
  return { projectId: project.id as string, datasetId: dataset.id as string, space };
}

export async function trainSupernet(server: GraphQLClient, searchSpaceId: string, datasetId: string, name = 'supernet') {
  const { trainSupernet: job } = await server.gql(
    `mutation($s: ID!, $d: ID!, $n: String!) { trainSupernet(input: { name: $n, searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2 } }) { ${JOB_FIELDS} payload } }`,
    { s: searchSpaceId, d: datasetId, n: name },
  );
  return job as { id: string; state: string; payload: { supernetId: string; runId: string }; subjectId: string };
}

/**
 * seedTinySearch's training set for a test that stops a training once it has checkpointed an epoch
 * and stored a loss point past it, at batch 32. Metrics are stored in batches and a checkpoint takes
 * them along: with 6 steps an epoch (256 images) a fast machine (an AMD EPYC, Zen 5) showed such a
 * point for a few ms an epoch, and the job finished before a poll saw one. 24 steps take about 1 s.
 */
export const INTERRUPTIBLE_TRAINING = { trainSize: 1024, stepsPerEpoch: 24 } as const;

/**
 * A problem the real executors solve in seconds: 8×8 synthetic images of 4 classes (a quarter held
 * out for the search) and mbv2-fmnist at 0.35x.
 */
export async function seedTinySearch(server: GraphQLClient, name: string, options: { trainSize?: number; groups?: number } = {}) {
  const { createProject: project } = await server.gql(`mutation($n: String!) { createProject(input: { name: $n }) { id } }`, { n: name });
  const { registerDataset: dataset } = await server.gql(
    `mutation($p: ID!, $t: Int!) { registerDataset(input: { projectId: $p, name: "tiny", format: SYNTHETIC, searchFraction: 0.25,
        synthetic: { numClasses: 4, trainSize: $t, testSize: 64, channels: 1, size: 8 } }) { id } }`,
    { p: project.id, t: options.trainSize ?? 256 },
  );
  const { createSearchSpace: space } = await server.gql(
    `mutation($p: ID!, $g: Int!) { createSearchSpace(input: { projectId: $p, name: "mbv2-tiny", architecture: "mbv2-fmnist", inputSize: 8, numClasses: 4, maxWidth: 0.35, groups: $g }) { id maxChannels } }`,
    { p: project.id, g: options.groups ?? 3 },
  );
  return { projectId: project.id as string, datasetId: dataset.id as string, spaceId: space.id as string, maxChannels: space.maxChannels as number[] };
}
