import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresDatabaseExists, postgresUrl } from '../support/databases';

const PASSWORD = 'never-print-me';

/** Starts the real server process with SLIMLAB_DATABASE_URL and waits for it to exit; one that starts serving is killed. */
function startServerProcess(databaseUrl: string): Promise<{ code: number | null; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-start-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../server/main.ts')], {
    env: { ...process.env, SLIMLAB_DATABASE_URL: databaseUrl, SLIMLAB_DATA_DIR: dataDir, SLIMLAB_PORT: '0', SLIMLAB_HOST: '127.0.0.1', SLIMLAB_EMBEDDED_WORKER: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('GraphQL at')) child.kill('SIGKILL');
  });
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stderr });
    }),
  );
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('starting against an unusable PostgreSQL database', () => {
  it('exits with one line naming SLIMLAB_DATABASE_URL, host and port when nothing listens there', async () => {
    const port = await closedPort();
    const { code, stderr } = await startServerProcess(`postgres://slimlab:${PASSWORD}@127.0.0.1:${port}/slimlab`);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `slimlab: SLIMLAB_DATABASE_URL (PostgreSQL at 127.0.0.1:${port}, database "slimlab"): connection refused; is PostgreSQL running there, and is the port right?`,
    ]);
  });

  it('exits telling the user to create a missing database, and does not create it', async () => {
    const database = `slimlab_missing_${randomUUID().replace(/-/g, '')}`;
    const url = postgresUrl(database, PASSWORD);
    const { hostname, port, username } = new URL(url);
    const { code, stderr } = await startServerProcess(url);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`SLIMLAB_DATABASE_URL (PostgreSQL at ${hostname}:${port || 5432}, database "${database}"): the database does not exist`);
    expect(lines[0]).toContain(`createdb -h ${hostname} -p ${port || 5432} -U ${username} ${database}`);
    expect(stderr).not.toContain(PASSWORD);
    expect(await postgresDatabaseExists(database)).toBe(false);
  });
});
