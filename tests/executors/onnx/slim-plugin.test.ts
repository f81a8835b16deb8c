import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { buildGraph, parseChannelList } from '../../../autoslim';
import { EvaluationCache } from '../../../executors/onnx/evaluation-cache';
import { createEvaluator } from '../../../executors/onnx/evaluator';
import { OnnxExportPlugin } from '../../../executors/onnx/export-plugin';
import { OnnxSlimmingPlugin } from '../../../executors/onnx/slim-plugin';
import { labelledImages } from '../../../executors/onnx/session';
import { DEFAULT_TRANSFORMS, openDataset } from '../../../executors/data/loader';
import { Rng } from '../../../executors/rng';
import { smoothedCrossEntropy } from '../../../executors/tfjs/losses';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';
import { decodeSafetensors } from '../../../executors/weights';
import { JOB_FIELDS, seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';
import { all, TEST_LOADER } from '../../support/streamed';

async function succeeded(server: TestServer, jobId: string) {
  return eventually(async () => {
    const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result backend provider progressMessage } }`, { id: jobId });
    if (job.state === 'FAILED') throw new Error(job.error);
    return job.state === 'SUCCEEDED' ? job : undefined;
  }, 240_000);
}

describe('greedy slimming with the ONNX Runtime evaluator, through GraphQL', () => {
  let server: TestServer;
  let supernetId: string;
  let widestMacs: number;
  const cacheFile = join(mkdtempSync(join(tmpdir(), 'slimlab-slim-cache-')), 'evaluations.jsonl');
  const slimmer = new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile });

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS), slimmer, new OnnxExportPlugin({ provider: 'cpu', threads: 1 })]);
    const { datasetId, spaceId, maxChannels } = await seedTinySearch(server, 'slim');
    const { profile } = await server.gql(`query($c: [Int!]!) { profile(architecture: "mbv2-fmnist", channels: $c, inputSize: 8, numClasses: 4) { macs } }`, { c: maxChannels });
    widestMacs = profile.macs;
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2, batchSize: 32, learningRate: 0.1 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    await succeeded(server, job.id);
    supernetId = job.payload.supernetId;
  }, 240_000);

  afterAll(async () => {
    await server.stop();
  });

  it('walks down with strictly decreasing MACs, with a candidate at or under each target', async () => {
    const targets = [Math.round(widestMacs * 0.7), Math.round(widestMacs * 0.4)];
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 64 }) { ${JOB_FIELDS} payload } }`,
      { s: supernetId, t: targets },
    );
    const done = await succeeded(server, job.id);
    expect(done).toMatchObject({ backend: 'onnxruntime-cpu', provider: 'cpu' });
    // The last step's cost as people read it (7.52M MACs), never 7.522e+6.
    expect(done.progressMessage).toMatch(/^step \d+: .+ → \d+(\.\d+)?[kMG]? MACs at \d+\.\d\d%$/);
    const { trajectory } = await server.gql(
      `query($t: ID!) { trajectory(id: $t) { evaluations cacheHits evalSeconds steps { index unitName macs params accuracy accuracyDrop proposals { unitIndex } channels }
          candidates { target macs searchAccuracy channels source } } }`,
      { t: job.payload.trajectoryId },
    );
    const macs = trajectory.steps.map((s: { macs: number }) => s.macs);
    expect(macs[0]).toBe(widestMacs);
    for (let i = 1; i < macs.length; i++) expect(macs[i]).toBeLessThan(macs[i - 1]);
    expect(macs.at(-1)).toBeLessThanOrEqual(targets[1]);
    expect(trajectory.steps[0].accuracyDrop).toBe(0);
    expect(trajectory.steps[1].proposals.length).toBeGreaterThan(1);
    expect(trajectory.candidates.map((c: { target: number }) => c.target)).toEqual([targets[0], targets[1]]);
    for (const c of trajectory.candidates) {
      expect(c.macs).toBeLessThanOrEqual(c.target);
      expect(c.source).toBe('AUTOSLIM');
    }
    expect(trajectory.evaluations + trajectory.cacheHits).toBeGreaterThanOrEqual(trajectory.steps.length);
    expect(trajectory.evalSeconds).toBeGreaterThan(0);

    // The candidate, evaluated on its own in ORT on the same batch with the same BN mode, scores what the search recorded.
    const candidate = trajectory.candidates[1];
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { checkpoint { uri } searchSpace { maxChannels } } }`, { id: supernetId });
    const weights = decodeSafetensors(await readFile(fileURLToPath(supernet.checkpoint.uri))).tensors;
    const options = { inputSize: 8, numClasses: 4 };
    const structure = parseChannelList('mbv2-fmnist', supernet.searchSpace.maxChannels, options);
    const graph = buildGraph('mbv2-fmnist', parseChannelList('mbv2-fmnist', candidate.channels, options, structure), options, structure);
    // The batch the job evaluated on: its own dataset, read as it reads it, the same seeded draw from the hold-out.
    const noManifest = () => Promise.reject(new Error('a SYNTHETIC dataset has no manifest'));
    const data = await openDataset(job.payload.dataset, graph.input, DEFAULT_TRANSFORMS, TEST_LOADER, noManifest, { train: true, test: false });
    const indices = new Rng(job.payload.evalSeed >>> 0).permutation(data.search.count).slice(0, 64);
    const [batch] = await all(data.search.batches(indices, 64)).finally(() => data.close());
    const evaluator = await createEvaluator({ provider: 'cpu', threads: 1 });
    const result = await evaluator.evaluate({ graph, weights, batchNorm: 'batch' }, labelledImages(batch!.images, batch!.labels, graph.input), 64);
    expect(result.top1 / result.count).toBe(candidate.searchAccuracy);
  });

  it('never evaluates a configuration twice: a second trajectory of the supernet is served from the cache', async () => {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 64 }) { id payload } }`,
      { s: supernetId, t: [Math.round(widestMacs * 0.7)] },
    );
    const done = await succeeded(server, job.id);
    expect(done.result.evaluations).toBe(0);
    expect(done.result.cacheHits).toBeGreaterThan(0);
  });

  it('scores every configuration of the walk with the loss and top-1 the tfjs trainer computes for it on the same batch', async () => {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 64, evalSeed: 5 }) { id payload } }`,
      { s: supernetId, t: [Math.round(widestMacs * 0.5)] },
    );
    await succeeded(server, job.id);
    const { trajectory } = await server.gql(`query($t: ID!) { trajectory(id: $t) { steps { channels accuracy } } }`, { t: job.payload.trajectoryId });
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { checkpoint { uri sha256 } searchSpace { maxChannels } } }`, { id: supernetId });
    const options = { inputSize: 8, numClasses: 4 };
    const structure = parseChannelList('mbv2-fmnist', supernet.searchSpace.maxChannels, options);
    const network = new SlimmableNetwork(buildGraph('mbv2-fmnist', structure, options, structure), 0);
    network.importWeights(decodeSafetensors(await readFile(fileURLToPath(supernet.checkpoint.uri))).tensors);
    const noManifest = () => Promise.reject(new Error('a SYNTHETIC dataset has no manifest'));
    const data = await openDataset(job.payload.dataset, network.supernet.input, DEFAULT_TRANSFORMS, TEST_LOADER, noManifest, { train: true, test: false });
    const indices = new Rng(job.payload.evalSeed >>> 0).permutation(data.search.count).slice(0, 64);
    const [batch] = await all(data.search.batches(indices, 64)).finally(() => data.close());
    // What the evaluation cache keys the batch by, so the plugin's own stored results can be looked up.
    const dataDigest = createHash('sha256').update(Buffer.from(batch!.images.buffer)).update(Buffer.from(batch!.labels.buffer)).digest('hex');
    const cache = new EvaluationCache(cacheFile);
    try {
      expect(trajectory.steps.length).toBeGreaterThan(2);
      for (const step of trajectory.steps as { channels: number[]; accuracy: number }[]) {
        const recorded = cache.get({ checkpointSha256: supernet.checkpoint.sha256, channels: step.channels, dataDigest, bnMode: 'BATCH_STATS', batch: 64, batchSeed: 5 });
        expect(recorded).toMatchObject({ count: 64, top1: step.accuracy * 64 });
        const config = buildGraph('mbv2-fmnist', parseChannelList('mbv2-fmnist', step.channels, options, structure), options, structure);
        // One input channel: the loader's NCHW batch is already NHWC.
        const [loss, top1] = tf.tidy(() => {
          const logits = network.forward(config, tf.tensor4d(batch!.images, [64, 8, 8, 1]), 'batch');
          const labels = tf.tensor1d(batch!.labels, 'int32');
          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
          return [smoothedCrossEntropy(logits, labels, 0).dataSync()[0]!, hits.dataSync()[0]!];
        });
        expect(Math.abs(recorded!.loss / recorded!.count - loss)).toBeLessThan(1e-4);
        expect(recorded!.top1).toBe(top1);
      }
    } finally {
      network.dispose();
    }
  });

  it('recalibrates BN per proposal over two batches: a candidate scores what its exported file scores on the same batches', async () => {
    const settings = 'evalBatchSize: 48, evalSeed: 7, evalBatches: 2, bnMode: RECALIBRATED, calibrationImages: 150, calibrationSeed: 3, minWidthFraction: 0.25';
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, ${settings} }) { id payload } }`,
      { s: supernetId, t: [Math.round(widestMacs * 0.5)] },
    );
    const done = await succeeded(server, job.id);
    expect(done.result).toMatchObject({ calibrationImages: 150 });
    const { trajectory } = await server.gql(
      `query($t: ID!) { trajectory(id: $t) { bnMode evalBatches calibrationImages calibrationSeed minWidthFraction evaluations steps { index } candidates { id searchAccuracy } } }`,
      { t: job.payload.trajectoryId },
    );
    expect(trajectory).toMatchObject({ bnMode: 'RECALIBRATED', evalBatches: 2, calibrationImages: 150, calibrationSeed: 3, minWidthFraction: 0.25 });
    expect(trajectory.steps.length).toBeGreaterThan(2);
    // Two batches per proposal, each evaluated once.
    expect(trajectory.evaluations % 2).toBe(0);

    const [candidate] = trajectory.candidates;
    const { exportCandidate } = await server.gql(
      `mutation($c: ID!, $s: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s, batchNorm: FOLDED, calibrationImages: 150, calibrationSeed: 3 }) { id } }`,
      { c: candidate.id, s: supernetId },
    );
    const exported = await succeeded(server, exportCandidate.id);
    const { artifact } = await server.gql(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: exported.result.artifact.id });
    const file = await ort.InferenceSession.create(Buffer.from(await (await fetch(`${server.url}${artifact.downloadUrl}`)).arrayBuffer()));
    // The file normalizes raw pixels itself; it sees the job's two hold-out batches.
    const noManifest = () => Promise.reject(new Error('a SYNTHETIC dataset has no manifest'));
    const input = { channels: 1, height: 8, width: 8 };
    const data = await openDataset(job.payload.dataset, input, DEFAULT_TRANSFORMS, TEST_LOADER, noManifest, { train: true, test: false });
    let correct = 0;
    try {
      for (const seed of [7, 8]) {
        const indices = new Rng(seed).permutation(data.search.count).slice(0, 48);
        const [batch] = await all(data.search.batches(indices, 48, { norm: { mean: [0], std: [1] } }));
        const { logits } = await file.run({ input: new ort.Tensor('float32', batch!.images, [48, 1, 8, 8]) });
        const values = logits!.data as Float32Array;
        for (let i = 0; i < 48; i++) {
          const row = Array.from(values.subarray(i * 4, i * 4 + 4));
          if (row.indexOf(Math.max(...row)) === batch!.labels[i]) correct++;
        }
      }
    } finally {
      await data.close();
      await file.release();
    }
    expect(candidate.searchAccuracy).toBe(correct / 96);
  });

  it('rejects budgets and settings it cannot serve, before queueing anything', async () => {
    const attempt = (extra: string) => server.gqlError(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1e6], evalBatchSize: 64, ${extra} }) { id } }`, { s: supernetId });
    // The tiny dataset trains on 192 images outside its hold-out of 64.
    const tooMany = await attempt('bnMode: RECALIBRATED, calibrationImages: 193');
    expect(tooMany).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.calibrationImages' } });
    expect(tooMany.message).toContain('192 training images');
    expect(await attempt('calibrationImages: 1')).toMatchObject({ extensions: { field: 'input.calibrationImages' } });
    expect(await attempt('evalBatches: 17')).toMatchObject({ extensions: { field: 'input.evalBatches' } });
    expect(await attempt('minWidthFraction: 1')).toMatchObject({ extensions: { field: 'input.minWidthFraction' } });
    expect(await attempt('minWidthFraction: -0.1')).toMatchObject({ extensions: { field: 'input.minWidthFraction' } });
    expect(await server.gqlError(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1], constraint: LATENCY }) { id } }`, { s: supernetId })).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.deviceId' },
    });
    expect(await server.gqlError(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1], evalBatchSize: 100000 }) { id } }`, { s: supernetId })).toMatchObject({
      extensions: { field: 'input.evalBatchSize' },
    });
  });
});
