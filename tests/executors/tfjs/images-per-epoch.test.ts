import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

describe('recipe.imagesPerEpoch', () => {
  let server: TestServer;
  let spaceId: string;
  let datasetId: string;

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS)]);
    ({ spaceId, datasetId } = await seedTinySearch(server, 'images-per-epoch'));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('trains each epoch on that many images of the training split, with a checkpoint per epoch', async () => {
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2, batchSize: 32, imagesPerEpoch: 64 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    const done = await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: job.id });
      if (j.state === 'FAILED') throw new Error(j.error);
      return j.state === 'SUCCEEDED' ? j : undefined;
    }, 120_000);
    // 192 training images, but 64 per epoch at batch 32: 2 steps per epoch.
    expect(done.result.steps).toBe(4);
    const { run } = await server.gql(`query($id: ID!) { run(id: $id) { checkpointStep recipe } }`, { id: job.payload.runId });
    expect(run).toMatchObject({ checkpointStep: 4, recipe: { imagesPerEpoch: 64 } });
  });

  it('must hold at least one batch', async () => {
    const error = await server.gqlError(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "small", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: 32, imagesPerEpoch: 16 } }) { id } }`,
      { s: spaceId, d: datasetId },
    );
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.recipe.imagesPerEpoch' } });
  });
});
