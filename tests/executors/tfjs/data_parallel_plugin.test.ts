import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { scratchDatabase } from '../../support/databases';
import { INTERRUPTIBLE_TRAINING, seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

const { trainSize: TRAIN_SIZE, stepsPerEpoch: STEPS_PER_EPOCH } = INTERRUPTIBLE_TRAINING;
const EPOCHS = 4;
const parallelPlugin = () => new TfjsTrainingPlugin({ ...TEST_TRAINING_OPTIONS, workers: 2 });

describe('a supernet training job on two data-parallel workers', () => {
  it('trains and checkpoints, stops its workers when the server stops, and resumes from its checkpoint', async () => {
    const scratch = await scratchDatabase('sqlite');
    const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-parallel-'));
    const reuse = { database: scratch.target, dataDir };
    const first = await TestServer.start('sqlite', [parallelPlugin()], reuse);
    const { datasetId, spaceId } = await seedTinySearch(first, 'parallel', { trainSize: TRAIN_SIZE });
    const { trainSupernet: job } = await first.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: ${EPOCHS}, batchSize: 32 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    // Stop once it has checkpointed an epoch and trained past it: the step in flight is aborted.
    const checkpointStep = await eventually(async () => {
      const { supernet } = await first.gql(`query($id: ID!) { supernet(id: $id) { run { checkpointStep } } }`, { id: job.payload.supernetId });
      const { runHistory } = await first.gql(`query($r: ID!) { runHistory(runId: $r, keys: ["loss"], maxPoints: 1000) { points { step } } }`, { r: job.payload.runId });
      const last = runHistory[0]?.points.at(-1)?.step ?? 0;
      const saved = supernet.run.checkpointStep as number | null;
      return saved && last > saved && saved < EPOCHS * STEPS_PER_EPOCH ? saved : undefined;
    }, 120_000);
    await first.stop({ keepData: true });

    const second = await TestServer.start('sqlite', [parallelPlugin()], reuse);
    try {
      const done = await eventually(async () => {
        const { job: j } = await second.gql(`query($id: ID!) { job(id: $id) { state attempts result error } }`, { id: job.id });
        if (j.state === 'FAILED') throw new Error(j.error);
        return j.state === 'SUCCEEDED' ? j : undefined;
      }, 180_000);
      expect(done.result.steps).toBe(EPOCHS * STEPS_PER_EPOCH);
      expect(done.result.resumedFromStep).toBeGreaterThanOrEqual(checkpointStep);
      expect(done.result.heldout_top1_widest).toBeGreaterThan(0);
      const { runHistory } = await second.gql(`query($r: ID!) { runHistory(runId: $r, keys: ["loss"], maxPoints: 1000) { points { step } } }`, { r: job.payload.runId });
      expect(runHistory[0].points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: EPOCHS * STEPS_PER_EPOCH }, (_, i) => i + 1));
    } finally {
      await second.stop({ keepData: true });
      await scratch.drop();
    }
  }, 300_000);
});
