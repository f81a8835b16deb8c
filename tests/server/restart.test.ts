import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseTarget } from '../../server/config';
import { openDatabase } from '../../server/db/orm';
import { Job } from '../../server/entities';
import { DATABASES, scratchDatabase } from '../support/databases';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

/** Starts the server in a child process and returns it with its URL. */
async function startChild(database: DatabaseTarget, dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'child-server.ts')], {
    env: {
      ...process.env,
      SLIMLAB_DATABASE_URL: database.kind === 'sqlite' ? `sqlite:${database.file}` : database.url,
      SLIMLAB_DATA_DIR: dataDir,
      SLIMLAB_PORT: '0',
      SLIMLAB_HOST: '127.0.0.1',
      SLIMLAB_WORKER_CONCURRENCY: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /LISTENING (\S+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`child server exited with ${code}: ${stderr}`)));
  });
  return { child, url };
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

describe.each(DATABASES)('restart after a killed server on %s', (kind) => {
  it('requeues a job left RUNNING, which resumes from its saved state; one out of attempts is FAILED', async () => {
    const scratch = await scratchDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-restart-'));
    const { child, url } = await startChild(scratch.target, dataDir);
    const client = { gql: (q: string, v?: Record<string, unknown>) => gql(url, q, v) };
    const { datasetId, space } = await seedProject(client as unknown as TestServer, 'restart');
    const resumable = await trainSupernet(client as unknown as TestServer, space.id, datasetId, 'resumable');
    const exhausted = await trainSupernet(client as unknown as TestServer, space.id, datasetId, 'exhausted');
    for (const job of [resumable, exhausted]) {
      await eventually(async () => {
        const { job: j } = await client.gql(`query($id: ID!) { job(id: $id) { state progress } }`, { id: job.id });
        return j.state === 'RUNNING' && j.progress === 0.25 ? true : undefined;
      });
    }
    const orm = (await openDatabase(scratch.target)).orm;
    await orm.em.fork().nativeUpdate(Job, { id: exhausted.id }, { maxAttempts: 1 });
    await orm.close(true);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const trainer = new ScriptedPlugin(['TRAIN_SUPERNET']);
    const server = await TestServer.start(kind, [trainer], { database: scratch.target, dataDir });
    try {
      await trainer.whenStarted(resumable.id, 2);
      const resumed = trainer.runs.find((r) => r.id === resumable.id)!;
      expect(resumed).toMatchObject({ attempt: 2, resumeState: { epoch: 1 } });
      trainer.finish(resumable.id, { resumed: true }, 2);
      const done = await eventually(async () => {
        const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state attempts result } }`, { id: resumable.id });
        return job.state === 'SUCCEEDED' ? job : undefined;
      });
      expect(done).toEqual({ state: 'SUCCEEDED', attempts: 2, result: { resumed: true } });

      const { job: failed } = await server.gql(`query($id: ID!) { job(id: $id) { state attempts error finishedAt } }`, { id: exhausted.id });
      expect(failed).toMatchObject({ state: 'FAILED', attempts: 1 });
      expect(failed.error).toMatch(/stopped while running it, and all 1 attempts are used/);
      expect(trainer.runs.some((r) => r.id === exhausted.id)).toBe(false);
      const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { run { status } } }`, { id: exhausted.payload.supernetId });
      expect(supernet.run.status).toBe('FAILED');
    } finally {
      await server.stop({ keepData: true });
      await scratch.drop();
    }
  });
});
