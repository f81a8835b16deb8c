import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/app';
import { loadLimits } from '../../server/config';
import { graphqlAt } from '../support/child';
import { jobOf, jobWhen, queueTraining } from '../support/cluster';
import { scratchDatabase, type ScratchDatabase } from '../support/databases';
import { seedTinySearch, type GraphQLClient } from '../support/fixtures';
import { quietLog } from '../support/server';

/** The shape `npm start` runs: SQLite, the table queue, and the worker child process it spawns. */
describe('the embedded default on SQLite', () => {
  // 768 training images in batches of 32: 24 steps an epoch, progress reported every 10 steps.
  const TRAIN_SIZE = 1024;
  const EPOCHS = 3;
  let scratch: ScratchDatabase;
  let dataDir: string;
  let server: RunningServer;
  let client: GraphQLClient;
  let jobId: string;

  beforeAll(async () => {
    scratch = await scratchDatabase('sqlite');
    dataDir = mkdtempSync(join(tmpdir(), 'slimlab-embedded-'));
    server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        auth: false,
        dataDir,
        database: scratch.target,
        embeddedWorker: true,
        workerConcurrency: 1,
        workerToken: null,
        maxUploadMb: 1024,
        leaseSeconds: 30,
        ortProvider: 'cpu',
        ortThreads: 1,
        latencyThreads: 1,
        datasetRoots: ['/usr/share/datasets'],
        datasetMaxFileMb: 2048,
        datasetMaxImageSide: 4096,
        maxDatasetUploadMb: 2048,
        limits: loadLimits({}),
        allowedOrigins: [],
      },
      { spawnWorker: true, log: quietLog },
    );
    client = graphqlAt(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a query while the spawned worker runs a real training step', async () => {
    const { spaceId, datasetId } = await seedTinySearch(client, 'embedded', { trainSize: TRAIN_SIZE });
    jobId = (await queueTraining(client, spaceId, datasetId, 'sn', EPOCHS)).id;
    const running = await jobWhen(client, jobId, (j) => j.state === 'RUNNING', 120_000);
    const { job: claimed } = await client.gql(`query($id: ID!) { job(id: $id) { worker { pid } } }`, { id: running.id });
    // The trainer runs in the spawned child, never on the API's event loop.
    expect(claimed.worker.pid).not.toBe(process.pid);

    // One answer that shows the job mid-training is the proof; how long it took is not asserted.
    type Answer = { projects: { id: string }[]; job: { state: string; progress: number; error: string | null } };
    let midTraining: Answer | null = null;
    const deadline = Date.now() + 120_000;
    for (let asked = 0; asked < 5_000 && Date.now() < deadline && !midTraining; asked++) {
      const answer = await client.gql<Answer>(`query($id: ID!) { projects { id } job(id: $id) { state progress error } }`, { id: jobId });
      if (answer.job.state === 'FAILED') throw new Error(`training failed: ${answer.job.error}`);
      if (answer.job.state === 'RUNNING' && answer.job.progress > 0 && answer.job.progress < 1) midTraining = answer;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(midTraining?.projects.length).toBe(1);
  }, 300_000);

  it('finishes that training in one attempt', async () => {
    const done = await jobWhen(client, jobId, (j) => j.state === 'SUCCEEDED', 240_000);
    expect(done.attemptHistory.map((a) => a.outcome)).toEqual(['SUCCEEDED']);
    expect(done.result.steps).toBe(EPOCHS * 24);
    expect((await jobOf(client, jobId)).attempts).toBe(1);
  }, 300_000);
});
