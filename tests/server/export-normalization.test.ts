import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { buildGraph, parseChannelList } from '../../autoslim';
import type { JobSpec } from '../../executors/contract';
import { DEFAULT_TRANSFORMS, openDataset, type Batch } from '../../executors/data/loader';
import { OnnxExportPlugin, randomWeights, recalibrateBatchNorm } from '../../executors/onnx';
import { Rng } from '../../executors/rng';
import { resolveSearchSpace, type SearchSpaceSpec } from '../../executors/search-space';
import { decodeSafetensors, encodeSafetensors } from '../../executors/weights';
import { seedTinySearch } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';
import { all, TEST_LOADER } from '../support/streamed';

const OPTIONS = { inputSize: 8, numClasses: 4 };

/** Trains nothing: saves seeded random weights of the job's network as its checkpoint, as the trainer's file format has them. */
const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN'], async (job: JobSpec, ctx) => {
  const { runId, searchSpace, channels } = job.payload as { runId: string; searchSpace: SearchSpaceSpec; channels?: number[] };
  const space = resolveSearchSpace(searchSpace);
  const network = channels ? parseChannelList(space.architecture, channels, space.options, space.structure) : space.structure;
  const weights = randomWeights(buildGraph(space.architecture, network, space.options, space.structure), 3);
  const artifact = await ctx.artifacts.put('CHECKPOINT', 'weights.safetensors', encodeSafetensors(weights, { architecture: space.architecture }));
  await ctx.report({ type: 'checkpoint', runId, artifact, step: 1 });
  return {};
});

/**
 * An exported file normalizes its input itself, so it must do so as the network's training did:
 * with the statistics of the dataset the weights were trained on, whichever dataset the export
 * recalibrates BN on. Two datasets of the same shape whose images (and so statistics) differ.
 */
describe('the input normalization of an exported file', () => {
  let server: TestServer;
  let supernetId: string;
  let runId: string;
  let candidate: { id: string; configHash: string; channels: number[]; macs: number; params: number };
  let datasets: { supernet: string; other: string };

  async function succeeded(jobId: string) {
    return eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: jobId });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? job : undefined;
    }, 120_000);
  }

  /** The per-channel mean and std the loader normalizes a dataset's images with for this network. */
  async function normalizationOf(datasetId: string) {
    const { spec, readBlob } = await server.jobDataset(datasetId);
    const data = await openDataset(spec, { channels: 1, height: 8, width: 8 }, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob, { train: false, test: false });
    await data.close();
    return data.normalization;
  }

  /** Exports with RUNNING BN on `datasetId`'s images and returns the result and the file's initializers by name. */
  async function exportOn(source: string, datasetId: string) {
    const { exportCandidate: job } = await server.gql(
      `mutation($c: ID!, $d: ID!) { exportCandidate(input: { candidateId: $c, datasetId: $d, ${source}, batchNorm: RUNNING, calibrationImages: 64 }) { id } }`,
      { c: candidate.id, d: datasetId },
    );
    const { result } = await succeeded(job.id);
    const { artifact } = await server.gql(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: result.artifact.id });
    const file = Buffer.from(await (await fetch(`${server.url}${artifact.downloadUrl}`)).arrayBuffer());
    const initializers = new Map<string, Float32Array>();
    const model = onnx.ModelProto.decode(file);
    for (const t of model.graph!.initializer as onnx.TensorProto[]) {
      if (t.dataType === onnx.TensorProto.DataType.FLOAT) initializers.set(t.name, new Float32Array(Uint8Array.from(t.rawData).buffer));
    }
    const metadata = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    // The metadata must leave the file loadable as it was.
    await (await ort.InferenceSession.create(file)).release();
    return { result, initializers, metadata };
  }

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [trainer, new OnnxExportPlugin({ provider: 'cpu', threads: 1, data: TEST_LOADER })]);
    const seeded = await seedTinySearch(server, 'export-normalization');
    const { registerDataset: other } = await server.gql(
      `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "other", format: SYNTHETIC, searchFraction: 0.25, splitSeed: 5,
          synthetic: { numClasses: 4, trainSize: 256, testSize: 64, channels: 1, size: 8 } }) { id } }`,
      { p: seeded.projectId },
    );
    datasets = { supernet: seeded.datasetId, other: other.id };
    const { trainSupernet } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id payload } }`,
      { s: seeded.spaceId, d: datasets.supernet },
    );
    await succeeded(trainSupernet.id);
    supernetId = trainSupernet.payload.supernetId;
    ({ createUniformCandidates: [candidate] } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.25] }) { id configHash channels macs params } }`, {
      s: seeded.spaceId,
    }));
    const { retrainCandidate } = await server.gql(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, recipe: { epochs: 1 } }) { id subjectId } }`, {
      c: candidate.id,
      d: datasets.other,
    });
    await succeeded(retrainCandidate[0].id);
    runId = retrainCandidate[0].subjectId;
  }, 120_000);

  afterAll(async () => {
    await server.stop();
  });

  it('differs between the two datasets', async () => {
    const [a, b] = [await normalizationOf(datasets.supernet), await normalizationOf(datasets.other)];
    expect(Math.abs(a.mean[0]! - b.mean[0]!)).toBeGreaterThan(1e-2);
  });

  it("comes from the supernet's dataset when its weights are recalibrated on another, and BN is recalibrated on images normalized that way", async () => {
    const trained = await normalizationOf(datasets.supernet);
    const { result, initializers, metadata } = await exportOn(`supernetId: "${supernetId}"`, datasets.other);
    expect(result.weights).toBe('supernet');
    expect(metadata).toEqual({
      'slimlab.candidate_id': candidate.id,
      'slimlab.config_hash': candidate.configHash,
      'slimlab.architecture': 'mbv2-fmnist',
      'slimlab.input': 'float32 [batch, 1, 8, 8], pixels in [0, 1]',
      'slimlab.num_classes': '4',
      'slimlab.channels': candidate.channels.join(','),
      'slimlab.macs': String(candidate.macs),
      'slimlab.params': String(candidate.params),
      'slimlab.bn_mode': 'RUNNING',
      'slimlab.source': `supernet ${supernetId}`,
      'slimlab.version': JSON.parse(await readFile(join(__dirname, '..', '..', 'package.json'), 'utf8')).version,
    });
    expect(Array.from(initializers.get('input.mean')!)).toEqual(Array.from(Float32Array.from(trained.mean)));
    expect(Array.from(initializers.get('input.std')!)).toEqual(Array.from(Float32Array.from(trained.std)));
    expect(result.transforms.normalization).toEqual(trained);

    // The calibration images are the other dataset's, drawn as the job draws them, seen through the training normalization.
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { checkpoint { uri } searchSpace { maxChannels } } }`, { id: supernetId });
    const structure = parseChannelList('mbv2-fmnist', supernet.searchSpace.maxChannels, OPTIONS);
    const graph = buildGraph('mbv2-fmnist', parseChannelList('mbv2-fmnist', candidate.channels, OPTIONS, structure), OPTIONS, structure);
    const weights = decodeSafetensors(await readFile(fileURLToPath(supernet.checkpoint.uri))).tensors;
    const { spec, readBlob } = await server.jobDataset(datasets.other);
    const data = await openDataset(spec, graph.input, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob, { train: true, test: false });
    const indices = new Rng(0).permutation(data.train.count).slice(0, 64);
    const [batch] = (await all(data.train.batches(indices, 256, { norm: trained })).finally(() => data.close())) as Batch[];
    const expected = await recalibrateBatchNorm(graph, weights, [{ images: batch!.images, count: batch!.size }], { provider: 'cpu', threads: 1 });
    for (const conv of graph.nodes.filter((n) => n.op === 'conv')) {
      const actual = initializers.get(`${conv.name}.bn.mean`)!;
      const reference = expected.get(`${conv.name}.bn.mean`)!.data;
      actual.forEach((v, c) => expect(Math.abs(v - reference[c]!)).toBeLessThan(1e-4 * (1 + Math.abs(reference[c]!))));
    }
  });

  it("comes from the retraining run's dataset when its weights are recalibrated on another", async () => {
    const trained = await normalizationOf(datasets.other);
    const { result, initializers, metadata } = await exportOn(`runId: "${runId}"`, datasets.supernet);
    expect(result.weights).toBe('retrained');
    expect(metadata).toMatchObject({ 'slimlab.candidate_id': candidate.id, 'slimlab.source': `training run ${runId}`, 'slimlab.bn_mode': 'RUNNING' });
    expect(Array.from(initializers.get('input.mean')!)).toEqual(Array.from(Float32Array.from(trained.mean)));
    expect(Array.from(initializers.get('input.std')!)).toEqual(Array.from(Float32Array.from(trained.std)));
  });
});
