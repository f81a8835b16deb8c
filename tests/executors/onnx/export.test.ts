import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildGraph, defaultChannels, humanCount } from '../../../autoslim';
import { main } from '../../../cli/main';
import { searchSplit } from '../../../executors/data/split';
import { syntheticImages } from '../../../executors/data/synthetic';
import { OnnxExportPlugin } from '../../../executors/onnx/export-plugin';
import { randomWeights } from '../../../executors/onnx/random-weights';
import { recalibrateBatchNorm } from '../../../executors/onnx/recalibrate';
import { Rng } from '../../../executors/rng';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';
import { JOB_FIELDS, seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

const OPTIONS = { inputSize: 8, numClasses: 4 };
/** The images of seedTinySearch's SYNTHETIC dataset: 256 training and 64 test images, a quarter held out, seed 0. */
const TINY = { numClasses: 4, channels: 1, size: 8, seed: 0 };

describe('BN recalibration on ONNX Runtime', () => {
  it('sets the running statistics the tfjs trainer computes for the same configuration and images', async () => {
    await tf.setBackend('cpu');
    const graph = buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 0.35, OPTIONS), OPTIONS);
    const network = new SlimmableNetwork(graph, 3);
    const weights = network.exportWeights();
    const train = syntheticImages(TINY, 'train', 256);
    const { trainIndices } = searchSplit(256, 0.25, TINY.seed);
    const picked = Array.from(new Rng(1).permutation(trainIndices.length).subarray(0, 64), (i) => trainIndices[i]!);
    // Two batches of 32 training images, scaled to [0, 1]: both implementations see the same floats.
    const calibration = [picked.slice(0, 32), picked.slice(32)].map((indices) => ({
      images: Float32Array.from(indices.flatMap((i) => Array.from(train.pixels.subarray(i * 64, (i + 1) * 64))), (v) => v / 255),
      count: indices.length,
    }));

    const onnx = await recalibrateBatchNorm(graph, weights, calibration, { provider: 'cpu', threads: 1 });
    // One input channel: NCHW and NHWC hold the same values in the same order.
    network.recalibrateBatchNorm(graph, calibration.map((b) => tf.tensor4d(b.images, [b.count, 8, 8, 1])));
    const reference = network.exportWeights();
    network.dispose();

    const convs = graph.nodes.filter((n) => n.op === 'conv');
    expect(convs.length).toBeGreaterThan(10);
    for (const conv of convs) {
      for (const stat of ['mean', 'var']) {
        const name = `${conv.name}.bn.${stat}`;
        const expected = reference.get(name)!.data;
        const actual = onnx.get(name)!.data;
        expect(actual.length).toBe(expected.length);
        for (let c = 0; c < expected.length; c++) expect(Math.abs(actual[c]! - expected[c]!)).toBeLessThan(1e-3 * (1 + Math.abs(expected[c]!)));
        // The trainer never touched these statistics; recalibration must have changed them.
        expect(actual).not.toEqual(weights.get(name)!.data);
      }
    }
  });

  it('refuses a batch too small to have a variance', async () => {
    const graph = buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 0.35, OPTIONS), OPTIONS);
    await expect(recalibrateBatchNorm(graph, randomWeights(graph, 1), [{ images: new Float32Array(64), count: 1 }], { provider: 'cpu', threads: 1 })).rejects.toThrow(
      'needs at least 2 images',
    );
  });
});

describe('exporting a candidate as a standalone ONNX file, through GraphQL', () => {
  let server: TestServer;
  let supernetId: string;
  let datasetId: string;
  let uniform: { id: string; macs: number; params: number };

  async function finished(jobId: string) {
    return eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: jobId });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? job : undefined;
    }, 240_000);
  }

  async function exportJob(input: string, variables: Record<string, unknown>) {
    const { exportCandidate: job } = await server.gql(`mutation($c: ID!, $s: ID) { exportCandidate(input: { candidateId: $c, supernetId: $s, ${input} }) { ${JOB_FIELDS} } }`, variables);
    expect(job).toMatchObject({ kind: 'EXPORT', subjectId: variables.c });
    return (await finished(job.id)).result;
  }

  async function download(artifactId: string): Promise<Buffer> {
    const { artifact } = await server.gql(`query($id: ID!) { artifact(id: $id) { kind name bytes sha256 downloadUrl } }`, { id: artifactId });
    expect(artifact.kind).toBe('ONNX');
    const res = await fetch(`${server.url}${artifact.downloadUrl}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(artifact.name);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(artifact.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    return bytes;
  }

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS), new OnnxExportPlugin({ provider: 'cpu', threads: 1 })]);
    const seeded = await seedTinySearch(server, 'export');
    const spaceId = seeded.spaceId;
    datasetId = seeded.datasetId;
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2, batchSize: 32, learningRate: 0.1 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    await finished(job.id);
    supernetId = job.payload.supernetId;
    const { createUniformCandidates } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.25] }) { id macs params } }`, { s: spaceId });
    uniform = createUniformCandidates[0];
  }, 300_000);

  afterAll(async () => {
    await server.stop();
  });

  it('writes a file whose recounted cost is the profiler\'s, that runs on raw pixels, with folded and kept BN agreeing', async () => {
    const folded = await exportJob('batchNorm: FOLDED, calibrationImages: 96', { c: uniform.id, s: supernetId });
    const running = await exportJob('batchNorm: RUNNING, calibrationImages: 96', { c: uniform.id, s: supernetId });
    for (const result of [folded, running]) {
      expect(result).toMatchObject({ macs: uniform.macs, params: uniform.params, weights: 'supernet', calibrationImages: 96, testImages: 64 });
      expect(result.input).toEqual({ name: 'input', shape: ['batch', 1, 8, 8] });
    }
    expect(folded.fileName).toMatch(/^mbv2-fmnist-[0-9a-f]{12}-folded\.onnx$/);

    const test = syntheticImages(TINY, 'test', 64);
    const raw = { images: Float32Array.from(test.pixels, (v) => v / 255), labels: test.labels };
    const logits: Float32Array[] = [];
    for (const result of [folded, running]) {
      const session = await ort.InferenceSession.create(await download(result.artifact.id));
      const out = await session.run({ input: new ort.Tensor('float32', raw.images, [64, 1, 8, 8]) });
      await session.release();
      const values = out.logits!.data as Float32Array;
      expect(values.length).toBe(64 * 4);
      let correct = 0;
      for (let i = 0; i < 64; i++) {
        const row = Array.from(values.subarray(i * 4, i * 4 + 4));
        if (row.indexOf(Math.max(...row)) === raw.labels[i]) correct++;
      }
      expect(correct / 64).toBe(result.testTop1);
      logits.push(values);
    }
    for (let i = 0; i < logits[0]!.length; i++) expect(Math.abs(logits[0]![i]! - logits[1]![i]!)).toBeLessThan(1e-3);
  });

  it("exports a retrained run's own weights, and refuses a run of another candidate", async () => {
    const { retrainCandidate } = await server.gql(
      `mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, recipe: { epochs: 1, batchSize: 32 } }) { id subjectId } }`,
      { c: uniform.id, d: datasetId },
    );
    await finished(retrainCandidate[0].id);
    const runId = retrainCandidate[0].subjectId;
    const { exportCandidate: job } = await server.gql(`mutation($c: ID!, $r: ID!) { exportCandidate(input: { candidateId: $c, runId: $r, calibrationImages: 64 }) { id } }`, {
      c: uniform.id,
      r: runId,
    });
    const result = (await finished(job.id)).result;
    expect(result).toMatchObject({ weights: 'retrained', macs: uniform.macs, params: uniform.params, calibrationImages: 64, batchNorm: 'FOLDED' });
    await download(result.artifact.id);

    const { candidate } = await server.gql(`query($id: ID!) { candidate(id: $id) { searchSpace { id } } }`, { id: uniform.id });
    const { createUniformCandidates } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.15] }) { id } }`, {
      s: candidate.searchSpace.id,
    });
    expect(
      await server.gqlError(`mutation($c: ID!, $r: ID!) { exportCandidate(input: { candidateId: $c, runId: $r }) { id } }`, { c: createUniformCandidates[0].id, r: runId }),
    ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.runId' } });
  });

  it('slimlab export writes the file the server produced', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'slimlab-export-')), 'candidate.onnx');
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: () => undefined, readSecret: async () => '', interactive: false, env: {} };
    const argv = ['export', uniform.id, '--onnx', file, '--supernet', supernetId, '--bn', 'running', '--calibration-images', '64', '--server', server.url];
    expect(await main(argv, io)).toBe(0);
    const bytes = readFileSync(file);
    expect(out.join('')).toContain(`wrote ${file} (${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)})`);
    expect(out.join('')).toContain(`${humanCount(uniform.macs)} MACs, ${humanCount(uniform.params)} params`);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    await session.release();
  });

  it('rejects a source it cannot export, naming the field', async () => {
    const noSource = await server.gqlError(`mutation($c: ID!) { exportCandidate(input: { candidateId: $c }) { id } }`, { c: uniform.id });
    expect(noSource).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.supernetId' } });
    expect(noSource.message).toContain('UNIFORM candidate belongs to no trajectory');
    expect(
      await server.gqlError(`mutation($c: ID!, $s: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s, runId: $s }) { id } }`, { c: uniform.id, s: supernetId }),
    ).toMatchObject({ extensions: { field: 'input.runId' } });
    expect(
      await server.gqlError(`mutation($c: ID!, $s: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s, calibrationImages: 1 }) { id } }`, { c: uniform.id, s: supernetId }),
    ).toMatchObject({ extensions: { field: 'input.calibrationImages' } });
    expect(
      await server.gqlError(`mutation($s: ID!) { exportCandidate(input: { candidateId: "00000000-0000-4000-8000-000000000000", supernetId: $s }) { id } }`, { s: supernetId }),
    ).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.candidateId' } });
    const { jobs } = await server.gql(`{ jobs(filter: { kind: EXPORT }) { id } }`);
    expect(jobs).toHaveLength(4);
  });

  it('answers 404 for an artifact that does not exist', async () => {
    const res = await fetch(`${server.url}/artifacts/00000000-0000-4000-8000-000000000000`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('00000000-0000-4000-8000-000000000000');
    expect((await fetch(`${server.url}/artifacts/not-a-uuid`)).status).toBe(400);
  });
});
