import { stepSettings } from '../../executors/tfjs/plugin';
import { seedTinySearch, writeIdxDataset } from '../support/fixtures';
import { TestServer } from '../support/server';

/**
 * Defaults of a training recipe that depend on the data are filled in when the work is queued and
 * recorded on the run: IDX data (digits and letters, which are not mirror-symmetric) is not
 * mirrored unless the recipe asks; everything else is.
 */
describe('recipe defaults', () => {
  let server: TestServer;
  let seeded: Awaited<ReturnType<typeof seedTinySearch>>;
  let idxId: string;

  beforeAll(async () => {
    server = await TestServer.start('sqlite');
    seeded = await seedTinySearch(server, 'recipe-defaults');
    ({ registerDataset: { id: idxId } } = await server.gql(
      `mutation($p: ID!, $path: String!) { registerDataset(input: { projectId: $p, name: "digits", format: IDX, path: $path, searchFraction: 0.25 }) { id } }`,
      { p: seeded.projectId, path: writeIdxDataset(64, 16, 8, 4) },
    ));
  });

  afterAll(async () => {
    await server.stop();
  });

  const flipOfSupernet = async (datasetId: string, recipe: string) => {
    const { trainSupernet } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn-${Math.random()}", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: 8${recipe} } }) { payload } }`,
      { s: seeded.spaceId, d: datasetId },
    );
    const { run } = await server.gql(`query($id: ID!) { run(id: $id) { recipe } }`, { id: trainSupernet.payload.runId });
    expect(trainSupernet.payload.recipe.horizontalFlip).toBe(run.recipe.horizontalFlip);
    return run.recipe.horizontalFlip;
  };

  it('does not mirror IDX images unless the recipe says so, and mirrors the others', async () => {
    expect(await flipOfSupernet(idxId, '')).toBe(false);
    expect(await flipOfSupernet(idxId, ', horizontalFlip: true')).toBe(true);
    expect(await flipOfSupernet(seeded.datasetId, '')).toBe(true);
    expect(await flipOfSupernet(seeded.datasetId, ', horizontalFlip: false')).toBe(false);
  });

  it('fills in the same default when a candidate is retrained', async () => {
    const { importCandidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, {
      s: seeded.spaceId,
      c: seeded.maxChannels,
    });
    const { retrainCandidate } = await server.gql(
      `mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0], recipe: { epochs: 1, batchSize: 8 } }) { payload } }`,
      { c: importCandidate.id, d: idxId },
    );
    expect(retrainCandidate[0].payload.recipe.horizontalFlip).toBe(false);
  });

  it('distils softly when a supernet payload does not say, as GraphQL defaults it', () => {
    // Payloads queued before the field existed, or written by hand, have no distillation.
    expect(stepSettings({ labelSmoothing: 0.1 })).toEqual({ labelSmoothing: 0.1, distillation: 'soft' });
    expect(stepSettings({ labelSmoothing: 0, distillation: 'off' })).toEqual({ labelSmoothing: 0, distillation: 'off' });
  });
});
