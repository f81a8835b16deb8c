import { seedProject } from '../support/fixtures';
import { TestServer } from '../support/server';

/** A dataset whose images have another channel count than the network's stem is refused when the work is queued, not when tfjs fails on it. */
describe('images whose channel count the network does not take', () => {
  let server: TestServer;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  let colour: string;

  beforeAll(async () => {
    server = await TestServer.start('sqlite');
    seeded = await seedProject(server, 'channels');
    ({ registerDataset: { id: colour } } = await server.gql(
      `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "colour", format: SYNTHETIC,
          synthetic: { numClasses: 10, trainSize: 400, testSize: 100, channels: 3, size: 28 } }) { id } }`,
      { p: seeded.projectId },
    ));
  });

  afterAll(async () => {
    await server.stop();
  });

  const expected = { message: 'input.datasetId: dataset has 3-channel images; mbv2-fmnist takes 1-channel input', extensions: { code: 'BAD_USER_INPUT', field: 'input.datasetId' } };

  it('are refused by trainSupernet and retrainCandidate, naming both counts', async () => {
    const train = await server.raw(`mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "n", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id } }`, {
      s: seeded.space.id,
      d: colour,
    });
    expect(train.errors?.[0]).toMatchObject(expected);
    const { importCandidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, {
      s: seeded.space.id,
      c: seeded.space.maxChannels,
    });
    const retrain = await server.raw(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0], recipe: { epochs: 1 } }) { id } }`, {
      c: importCandidate.id,
      d: colour,
    });
    expect(retrain.errors?.[0]).toMatchObject(expected);
    expect((await server.gql('{ jobs { id } }')).jobs).toEqual([]);
  });
});
