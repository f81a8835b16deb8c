import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { ChildServer } from '../../support/child';
import { scratchDatabase } from '../../support/databases';
import { INTERRUPTIBLE_TRAINING, seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

const { trainSize: TRAIN_SIZE, stepsPerEpoch: STEPS_PER_EPOCH } = INTERRUPTIBLE_TRAINING;
const EPOCHS = 4;

describe('a supernet training killed mid-run', () => {
  it('resumes from its last checkpoint after a restart, with no duplicated or missing steps', async () => {
    const scratch = await scratchDatabase('sqlite');
    const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-resume-'));
    const child = await ChildServer.start(scratch.target, dataDir, 'tfjs');
    const { datasetId, spaceId } = await seedTinySearch(child, 'resume', { trainSize: TRAIN_SIZE });
    const { trainSupernet: job } = await child.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: ${EPOCHS}, batchSize: 32 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    // Kill it once it has checkpointed at least one epoch and trained past it.
    const checkpointStep = await eventually(async () => {
      const { supernet } = await child.gql(`query($id: ID!) { supernet(id: $id) { run { checkpointStep } } }`, { id: job.payload.supernetId });
      const { runHistory } = await child.gql(`query($r: ID!) { runHistory(runId: $r, keys: ["loss"], maxPoints: 1000) { points { step } } }`, { r: job.payload.runId });
      const last = runHistory[0]?.points.at(-1)?.step ?? 0;
      const saved = supernet.run.checkpointStep as number | null;
      return saved && last > saved && saved < EPOCHS * STEPS_PER_EPOCH ? saved : undefined;
    }, 120_000);
    await child.kill();

    const server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS)], { database: scratch.target, dataDir });
    try {
      const done = await eventually(async () => {
        const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state attempts result error } }`, { id: job.id });
        if (j.state === 'FAILED') throw new Error(j.error);
        return j.state === 'SUCCEEDED' ? j : undefined;
      }, 180_000);
      expect(done.attempts).toBe(2);
      expect(done.result.steps).toBe(EPOCHS * STEPS_PER_EPOCH);
      expect(done.result.resumedFromStep).toBeGreaterThanOrEqual(checkpointStep);
      expect(done.result.resumedFromStep % STEPS_PER_EPOCH).toBe(0);
      const { runHistory } = await server.gql(`query($r: ID!) { runHistory(runId: $r, maxPoints: 1000) { key totalPoints points { step } } }`, { r: job.payload.runId });
      const loss = runHistory.find((s: { key: string }) => s.key === 'loss');
      expect(loss.points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: EPOCHS * STEPS_PER_EPOCH }, (_, i) => i + 1));
      const heldOut = runHistory.find((s: { key: string }) => s.key === 'heldout_top1/widest');
      expect(heldOut.points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: EPOCHS }, (_, i) => (i + 1) * STEPS_PER_EPOCH));
    } finally {
      await server.stop({ keepData: true });
      await scratch.drop();
    }
  }, 300_000);
});
