import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphqlAt } from '../support/child';
import { jobOf, jobWhen, queueTraining } from '../support/cluster';
import { scratchDatabase } from '../support/databases';
import { seedTinySearch } from '../support/fixtures';
import { TestServer } from '../support/server';

/**
 * `npm start` stopped with SIGTERM while it trains: the server stops its worker first, the worker
 * hands the job back, and only then does the server exit. (Apollo's own signal handler used to stop
 * the API and re-raise the signal, killing the server before its worker could report anything.)
 */
describe('the embedded default stopped with SIGTERM', () => {
  it('hands the running job back to the queue before it exits', async () => {
    const scratch = await scratchDatabase('sqlite');
    const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-stop-'));
    const server = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'server', 'main.ts')], {
      env: {
        ...process.env,
        // As `npm start` runs it: jest's NODE_ENV=test would switch off Apollo's signal handling.
        NODE_ENV: 'production',
        SLIMLAB_DATABASE_URL: `sqlite:${scratch.target.kind === 'sqlite' ? scratch.target.file : ''}`,
        SLIMLAB_DATA_DIR: dataDir,
        SLIMLAB_PORT: '0',
        SLIMLAB_HOST: '127.0.0.1',
        SLIMLAB_ORT_PROVIDER: 'cpu',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL within 60 s: ${output}`)), 60_000);
        server.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      });
      const client = graphqlAt(url);
      const { spaceId, datasetId } = await seedTinySearch(client, 'graceful-stop', { trainSize: 1024 });
      const job = await queueTraining(client, spaceId, datasetId, 'sn', 20);
      await jobWhen(client, job.id, (j) => j.state === 'RUNNING' && j.progress > 0, 120_000);

      server.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('[worker] SIGTERM: stopping');

      // The same database, served again without a worker, shows what the stop left behind.
      const after = await TestServer.start('sqlite', [], { database: scratch.target, dataDir });
      try {
        const stopped = await jobOf(after, job.id);
        expect(stopped.state).toBe('QUEUED');
        expect(stopped.attemptHistory).toEqual([expect.objectContaining({ attempt: 1, outcome: 'RELEASED' })]);
      } finally {
        await after.stop({ keepData: true });
      }
    } finally {
      server.kill('SIGKILL');
      await scratch.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
