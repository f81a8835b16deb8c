import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { JOB_FIELDS, seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

async function finished(server: TestServer, jobId: string) {
  return eventually(async () => {
    const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result backend provider executorNote } }`, { id: jobId });
    if (job.state === 'FAILED') throw new Error(job.error);
    return job.state === 'SUCCEEDED' ? job : undefined;
  }, 240_000);
}

describe('tfjs training executor through the server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS)]);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('trains a supernet with the sandwich rule, reporting history, held-out accuracy and checkpoints', async () => {
    const { datasetId, spaceId } = await seedTinySearch(server, 'supernet');
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2, batchSize: 32, learningRate: 0.1 } }) { ${JOB_FIELDS} payload } }`,
      { s: spaceId, d: datasetId },
    );
    const done = await finished(server, job.id);
    expect(done.backend).toBe('tfjs-wasm');
    expect(done.executorNote).toMatch(/wasm/);
    expect(done.result).toMatchObject({ steps: 12, resumedFromStep: 0 });
    expect(done.result.heldout_top1_widest).toBeGreaterThan(0.25);
    const { runHistory } = await server.gql(`query($r: ID!) { runHistory(runId: $r, maxPoints: 1000) { key totalPoints points { step value } } }`, { r: job.payload.runId });
    const series = Object.fromEntries(runHistory.map((s: { key: string; points: { step: number; value: number }[] }) => [s.key, s.points]));
    expect(Object.keys(series).sort()).toEqual(['heldout_top1/narrowest', 'heldout_top1/widest', 'images_per_s', 'loss', 'loss/narrowest', 'lr']);
    expect(series.loss.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(series['heldout_top1/widest'].map((p: { step: number }) => p.step)).toEqual([6, 12]);
    expect(series.lr[0].value).toBeCloseTo(0.1 * (1 - 0 / 12));
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { checkpoint { kind bytes } run { status checkpointStep summary } } }`, { id: job.payload.supernetId });
    expect(supernet.run).toMatchObject({ status: 'FINISHED', checkpointStep: 12 });
    expect(supernet.checkpoint.kind).toBe('CHECKPOINT');
  });

  it('answers the API between training steps, not only between epochs, and stops when cancelled', async () => {
    const { datasetId, spaceId } = await seedTinySearch(server, 'responsive', { trainSize: 1024 });
    const stepsPerEpoch = 768 / 8;
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "long", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 50, batchSize: 8 } }) { id } }`,
      { s: spaceId, d: datasetId },
    );
    // Training is synchronous compute in this process: a step that never yields would leave
    // requests waiting until the epoch's checkpoint is written.
    const midEpoch = await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state progressMessage } }`, { id: job.id });
      const step = Number(/step (\d+)/.exec(j.progressMessage ?? '')?.[1] ?? 0);
      return j.state === 'RUNNING' && step % stepsPerEpoch !== 0 ? step : undefined;
    });
    expect(midEpoch).toBeGreaterThan(0);
    await server.gql(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: job.id });
    const cancelled = await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state progress } }`, { id: job.id });
      return j.state === 'CANCELLED' ? j : undefined;
    });
    expect(cancelled.progress).toBeLessThan(0.5);
  });

  it('retrains a candidate from scratch and records test top-1 and top-5', async () => {
    const { datasetId, spaceId } = await seedTinySearch(server, 'retrain');
    const { createUniformCandidates: [candidate] } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.25] }) { id } }`, { s: spaceId });
    const { retrainCandidate: [job] } = await server.gql(
      `mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [3], recipe: { epochs: 2, batchSize: 32, learningRate: 0.1 } }) { id } }`,
      { c: candidate.id, d: datasetId },
    );
    const done = await finished(server, job.id);
    expect(done.result.top5).toBeGreaterThanOrEqual(done.result.top1);
    const { candidate: after } = await server.gql(`query($c: ID!) { candidate(id: $c) { retrainedRuns retrainedTop1Mean runs { seed status summary } } }`, { c: candidate.id });
    expect(after.retrainedRuns).toBe(1);
    expect(after.retrainedTop1Mean).toBe(done.result.top1);
    expect(after.runs[0]).toMatchObject({ seed: 3, status: 'FINISHED', summary: { top1: done.result.top1, top5: done.result.top5 } });
  });
});
