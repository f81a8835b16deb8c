import { OnnxSlimmingPlugin } from '../../../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

interface Proposal {
  unitIndex: number;
  accuracy: number;
  screenAccuracy: number | null;
  screenedOut: boolean;
}

describe('screening proposals on a smaller batch, through GraphQL', () => {
  let server: TestServer;
  let supernetId: string;
  let widestMacs: number;

  async function succeeded(jobId: string) {
    return eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: jobId });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? job : undefined;
    }, 240_000);
  }

  async function trajectory(extra: string) {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 64, ${extra} }) { id payload } }`,
      { s: supernetId, t: [Math.round(widestMacs * 0.5)] },
    );
    const done = await succeeded(job.id);
    const { trajectory: t } = await server.gql(
      `query($t: ID!) { trajectory(id: $t) { steps { index unitIndex proposals { unitIndex accuracy screenAccuracy screenedOut } } } }`,
      { t: job.payload.trajectoryId },
    );
    return { result: done.result, steps: t.steps as { index: number; unitIndex: number | null; proposals: Proposal[] }[] };
  }

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS), new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null })]);
    const { datasetId, spaceId, maxChannels } = await seedTinySearch(server, 'screening');
    const { profile } = await server.gql(`query($c: [Int!]!) { profile(architecture: "mbv2-fmnist", channels: $c, inputSize: 8, numClasses: 4) { macs } }`, { c: maxChannels });
    widestMacs = profile.macs;
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2, batchSize: 32, learningRate: 0.1 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    await succeeded(job.id);
    supernetId = job.payload.supernetId;
  }, 240_000);

  afterAll(async () => {
    await server.stop();
  });

  it('evaluates only the kept contenders fully, records every screening score, and never lets a screened-out proposal win', async () => {
    const { result, steps } = await trajectory('screenBatchSize: 16, screenKeep: 2');
    const slimming = steps.filter((s) => s.index > 0);
    expect(slimming.length).toBeGreaterThan(2);
    let screenedOut = 0;
    for (const step of slimming) {
      const contenders = step.proposals.filter((p) => !p.screenedOut);
      expect(contenders).toHaveLength(Math.min(2, step.proposals.length));
      if (step.proposals.length > 2) for (const p of step.proposals) expect(p.screenAccuracy).not.toBeNull();
      // The contenders are the best on the screening batch.
      const worstContender = Math.min(...contenders.map((p) => p.screenAccuracy ?? Infinity));
      for (const p of step.proposals.filter((q) => q.screenedOut)) expect(p.screenAccuracy).toBeLessThanOrEqual(worstContender);
      expect(contenders.map((p) => p.unitIndex)).toContain(step.unitIndex);
      screenedOut += step.proposals.length - contenders.length;
    }
    expect(screenedOut).toBeGreaterThan(0);

    // Without screening every proposal is evaluated on the full batch.
    const plain = await trajectory('');
    for (const step of plain.steps) for (const p of step.proposals) expect(p).toMatchObject({ screenAccuracy: null, screenedOut: false });
    const proposalsOf = (list: typeof steps) => list.reduce((n, s) => n + s.proposals.length, 0);
    expect(result.evaluations + result.cacheHits).toBeLessThan(proposalsOf(slimming) * 2 + 1);
    expect(plain.result.evaluations + plain.result.cacheHits).toBe(proposalsOf(plain.steps) + 1);
    // Halfway down, the masked sessions were reopened narrower (shrinking-supernet.ts).
    expect(plain.result.sessionsOpened).toBeGreaterThan(1);
  });

  it('screens recalibrated proposals on the leading images of the first batch, then scores the contenders on every batch', async () => {
    const { result, steps } = await trajectory('screenBatchSize: 16, screenKeep: 2, evalBatches: 2, bnMode: RECALIBRATED, calibrationImages: 64');
    const slimming = steps.filter((s) => s.index > 0 && s.proposals.length > 2);
    expect(slimming.length).toBeGreaterThan(0);
    for (const step of slimming) {
      const contenders = step.proposals.filter((p) => !p.screenedOut);
      expect(contenders).toHaveLength(2);
      // A screened-out proposal keeps its screening accuracy, a share of 16 images; a contender is scored on 2 × 64.
      for (const p of step.proposals) expect(Number.isInteger(p.screenAccuracy! * 16)).toBe(true);
      for (const p of contenders) expect(Number.isInteger(p.accuracy * 128)).toBe(true);
    }
    expect(result.calibrationImages).toBe(64);
  });

  it('rejects a screening it cannot run, naming the field', async () => {
    const attempt = (extra: string) =>
      server.gqlError(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1e5], evalBatchSize: 64, ${extra} }) { id } }`, { s: supernetId });
    expect(await attempt('screenBatchSize: 64')).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.screenBatchSize' } });
    expect(await attempt('screenBatchSize: 16, screenKeep: 0')).toMatchObject({ extensions: { field: 'input.screenKeep' } });
    const scoring = await attempt('screenBatchSize: 16, scoring: ACCURACY_DROP_PER_COST');
    expect(scoring).toMatchObject({ extensions: { field: 'input.screenBatchSize' } });
    expect(scoring.message).toContain('needs scoring ACCURACY');
  });
});
