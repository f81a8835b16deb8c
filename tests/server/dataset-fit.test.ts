import { eventually, TestServer } from '../support/server';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';

/**
 * The loader brings any image size to the search space's input and converts gray and colour into
 * each other; a dataset it cannot bring to the network (a 2-channel set for a 1-channel stem) is
 * refused when work is queued, naming both, not when tfjs fails on it mid-job.
 */
describe('datasets whose images do not fit the search space', () => {
  let server: TestServer;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  let candidateId: string;
  let supernetId: string;
  const datasets: Record<string, string> = {};

  // Saves a checkpoint, so exports have weights to start from.
  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET'], async (job, ctx) => {
    const { runId } = job.payload as { runId: string };
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'supernet.safetensors', Buffer.from('weights'));
    await ctx.report({ type: 'checkpoint', runId, artifact, step: 1 });
    return {};
  });

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [trainer]);
    seeded = await seedProject(server, 'fit');
    for (const [name, channels, size] of [['two-channel', 2, 28], ['colour', 3, 28], ['larger', 1, 32]] as const) {
      const { registerDataset } = await server.gql(
        `mutation($p: ID!, $n: String!, $c: Int!, $s: Int!) { registerDataset(input: { projectId: $p, name: $n, format: SYNTHETIC,
            synthetic: { numClasses: 10, trainSize: 400, testSize: 100, channels: $c, size: $s } }) { id } }`,
        { p: seeded.projectId, n: name, c: channels, s: size },
      );
      datasets[name] = registerDataset.id;
    }
    ({ importCandidate: { id: candidateId } } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, {
      s: seeded.space.id,
      c: seeded.space.maxChannels,
    }));
    const job = await trainSupernet(server, seeded.space.id, seeded.datasetId);
    supernetId = job.payload.supernetId;
    await eventually(async () => ((await server.gql(`query($id: ID!) { job(id: $id) { state } }`, { id: job.id })).job.state === 'SUCCEEDED' ? true : undefined));
  });

  afterAll(async () => {
    await server.stop();
  });

  const answersFor = async (d: string) => [
      await server.raw(`mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "n", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id } }`, { s: seeded.space.id, d }),
      await server.raw(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0], recipe: { epochs: 1 } }) { id } }`, { c: candidateId, d }),
      await server.raw(`mutation($c: ID!, $s: ID!, $d: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s, datasetId: $d }) { id } }`, { c: candidateId, s: supernetId, d }),
    ];

  it('refuses the 2-channel dataset at trainSupernet, retrainCandidate and exportCandidate, and queues nothing', async () => {
    const message = 'input.datasetId: dataset has 2-channel images; mbv2-fmnist takes 1-channel input, and only gray and colour convert into each other';
    for (const answer of await answersFor(datasets['two-channel']!)) {
      expect(answer.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT', field: 'input.datasetId' } });
    }
    expect((await server.gql('{ jobs { kind } }')).jobs).toEqual([{ kind: 'TRAIN_SUPERNET' }]);
  });

  it.each(['colour', 'larger'])('queues the work for the %s dataset, which the loader converts or resizes', async (name) => {
    for (const answer of await answersFor(datasets[name]!)) expect(answer.errors).toBeUndefined();
  });
});
