import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxSlimmingPlugin } from '../../../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { ChildServer } from '../../support/child';
import { scratchDatabase } from '../../support/databases';
import { seedTinySearch, type GraphQLClient } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

const STEP_FIELDS = 'index unitIndex channels macs params accuracy accuracyDrop score';

async function until(client: GraphQLClient, jobId: string, state: string) {
  return eventually(async () => {
    const { job } = await client.gql(`query($id: ID!) { job(id: $id) { state error attempts result } }`, { id: jobId });
    if (job.state === 'FAILED' && state !== 'FAILED') throw new Error(job.error);
    return job.state === state ? job : undefined;
  }, 240_000);
}

async function slim(client: GraphQLClient, supernetId: string, target: number) {
  const { startSlimming } = await client.gql(
    `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 64 }) { id payload } }`,
    { s: supernetId, t: [target] },
  );
  return startSlimming as { id: string; payload: { trajectoryId: string } };
}

describe('a slimming job killed mid-trajectory', () => {
  it('resumes at the last persisted step and ends with the trajectory of an uninterrupted run', async () => {
    const scratch = await scratchDatabase('sqlite');
    const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-slim-resume-'));
    const plugins = () => [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS), new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null })];
    let server = await TestServer.start('sqlite', plugins(), { database: scratch.target, dataDir });
    const { datasetId, spaceId } = await seedTinySearch(server, 'slim-resume', { groups: 6 });
    const { trainSupernet: training } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: 32 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    await until(server, training.id, 'SUCCEEDED');
    const supernetId = training.payload.supernetId as string;
    const reference = await slim(server, supernetId, 1);
    await until(server, reference.id, 'SUCCEEDED');
    const { trajectory: uninterrupted } = await server.gql(`query($t: ID!) { trajectory(id: $t) { steps { ${STEP_FIELDS} } } }`, { t: reference.payload.trajectoryId });
    expect(uninterrupted.steps.length).toBeGreaterThan(6);
    await server.stop({ keepData: true });

    const child = await ChildServer.start(scratch.target, dataDir, 'onnx');
    const killed = await slim(child, supernetId, 1);
    const stepsBeforeKill = await eventually(async () => {
      const { trajectory } = await child.gql(`query($t: ID!) { trajectory(id: $t) { steps { index } } }`, { t: killed.payload.trajectoryId });
      return trajectory.steps.length >= 3 ? trajectory.steps.length : undefined;
    }, 120_000);
    await child.kill();

    server = await TestServer.start('sqlite', plugins(), { database: scratch.target, dataDir });
    try {
      const done = await until(server, killed.id, 'SUCCEEDED');
      expect(done.attempts).toBe(2);
      expect(done.result.resumedFromStep).toBeGreaterThanOrEqual(stepsBeforeKill);
      const { trajectory: resumed } = await server.gql(`query($t: ID!) { trajectory(id: $t) { steps { ${STEP_FIELDS} } } }`, { t: killed.payload.trajectoryId });
      expect(resumed.steps.map((s: { index: number }) => s.index)).toEqual(uninterrupted.steps.map((_: unknown, i: number) => i));
      expect(resumed.steps).toEqual(uninterrupted.steps);
    } finally {
      await server.stop({ keepData: true });
      await scratch.drop();
    }
  }, 300_000);
});
