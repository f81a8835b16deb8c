import * as tf from '@tensorflow/tfjs-core';
import { configurationWeights } from '../../../executors/onnx/slice';
import { Rng } from '../../../executors/rng';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';
import type { Tensor as WeightTensor } from '../../../executors/weights';
import { seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';
import { TINY_SIZE, TINY_WIDEST, tinyGraph } from './tiny_graph';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe("a candidate's network started from its slices of a supernet", () => {
  beforeAll(async () => {
    await selectTrainingBackend(() => undefined);
  });

  it('computes exactly what the supernet computes for that configuration, running BN statistics included', () => {
    const rng = new Rng(11);
    const wide = new SlimmableNetwork(tinyGraph(TINY_WIDEST), 1);
    // Every tensor away from its initial value, variances positive, so each slice has to be the right one.
    const jitter = (name: string, t: WeightTensor): WeightTensor => ({
      shape: t.shape,
      data: t.data.map((v) => (name.endsWith('.bn.var') ? 0.5 + rng.nextFloat() : v + 0.3 * rng.nextNormal())),
    });
    wide.importWeights(new Map([...wide.exportWeights()].map(([name, t]) => [name, jitter(name, t)])));
    const config = tinyGraph({ stem: 4, mid: 5 });
    const started = new SlimmableNetwork(config, 2);
    const scratch = new SlimmableNetwork(config, 2);
    started.importWeights(configurationWeights(wide.exportWeights(), config));
    const x = tf.tensor4d(Float32Array.from({ length: 3 * TINY_SIZE * TINY_SIZE }, () => rng.nextNormal()), [3, TINY_SIZE, TINY_SIZE, 1]);
    const expected = wide.forward(config, x, 'running');
    const got = started.forward(config, x, 'running');
    const fresh = scratch.forward(config, x, 'running');
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);
    expect(maxAbsDiff(fresh, expected)).toBeGreaterThan(1e-2);
    tf.dispose([x, expected, got, fresh]);
    [wide, started, scratch].forEach((n) => n.dispose());
  });
});

describe('retraining from the supernet through the server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS)]);
  });

  afterAll(async () => {
    await server.stop();
  });

  async function result(jobId: string) {
    return eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: jobId });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? job.result : undefined;
    }, 240_000);
  }

  it('starts a SUPERNET retraining far above chance (4 classes: 0.25) where SCRATCH starts at it', async () => {
    const { datasetId, spaceId } = await seedTinySearch(server, 'fine-tune');
    const { trainSupernet: supernet } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 12, batchSize: 32, learningRate: 0.1, cropPadding: 0 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    expect((await result(supernet.id)).heldout_top1_narrowest).toBeGreaterThan(0.5);
    const { createUniformCandidates: [candidate] } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.25] }) { id } }`, { s: spaceId });
    // One step at a learning rate too small to move anything: the test score is where the weights started.
    const retrain = async (init: string) => {
      const { retrainCandidate: [job] } = await server.gql(
        `mutation($c: ID!, $d: ID!, $sn: ID) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0], init: ${init}, supernetId: $sn,
          recipe: { epochs: 1, batchSize: 32, imagesPerEpoch: 32, learningRate: 1e-9 } }) { id } }`,
        { c: candidate.id, d: datasetId, sn: init === 'SUPERNET' ? supernet.payload.supernetId : null },
      );
      return result(job.id);
    };
    const fromSupernet = await retrain('SUPERNET');
    const fromScratch = await retrain('SCRATCH');
    expect(fromSupernet.steps).toBe(1);
    expect(fromSupernet.top1).toBeGreaterThan(0.5);
    expect(fromScratch.top1).toBeLessThan(0.4);
    const { candidate: after } = await server.gql(`query($c: ID!) { candidate(id: $c) { fineTunedTop1 { estimate n } retrainedTop1 { estimate n } runs { init status } } }`, { c: candidate.id });
    expect(after.fineTunedTop1).toEqual({ estimate: fromSupernet.top1, n: 1 });
    expect(after.retrainedTop1).toEqual({ estimate: fromScratch.top1, n: 1 });
  });
});
