import { DATABASES } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { TestServer } from '../support/server';

describe.each(DATABASES)('a batch larger than the training split on %s', (kind) => {
  let server: TestServer;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  /** seedProject's dataset: 400 training images, a tenth held out for the search. */
  const TRAINING_IMAGES = 360;

  beforeAll(async () => {
    server = await TestServer.start(kind);
    seeded = await seedProject(server, 'batches');
  });

  afterAll(async () => {
    await server.stop();
  });

  const trainSupernet = (batchSize: number) =>
    server.raw(`mutation($s: ID!, $d: ID!, $b: Int!) { trainSupernet(input: { name: "n", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: $b } }) { id } }`, {
      s: seeded.space.id,
      d: seeded.datasetId,
      b: batchSize,
    });

  it('is rejected by trainSupernet, naming the field', async () => {
    expect((await trainSupernet(TRAINING_IMAGES + 1)).errors?.[0]).toMatchObject({
      message: `input.recipe.batchSize: must be at most the dataset's ${TRAINING_IMAGES} training images (its training split less the search hold-out), got ${TRAINING_IMAGES + 1}`,
      extensions: { code: 'BAD_USER_INPUT', field: 'input.recipe.batchSize' },
    });
    expect((await trainSupernet(TRAINING_IMAGES)).errors).toBeUndefined();
  });

  it('is rejected by retrainCandidate', async () => {
    const { importCandidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, {
      s: seeded.space.id,
      c: seeded.space.maxChannels,
    });
    const retrain = (batchSize: number) =>
      server.raw(`mutation($c: ID!, $d: ID!, $b: Int!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, recipe: { epochs: 1, batchSize: $b } }) { id } }`, {
        c: importCandidate.id,
        d: seeded.datasetId,
        b: batchSize,
      });
    expect((await retrain(TRAINING_IMAGES + 1)).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.recipe.batchSize' } });
    expect((await retrain(TRAINING_IMAGES)).errors).toBeUndefined();
  });
});
