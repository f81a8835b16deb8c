import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DatabaseTarget } from '../../server/config';

/** A slimlab server in a child process (tests/support/child-server.ts), for tests that kill it. */
export class ChildServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(database: DatabaseTarget, dataDir: string, executor: 'stuck' | 'tfjs' | 'onnx'): Promise<ChildServer> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'child-server.ts')], {
      env: {
        ...process.env,
        SLIMLAB_DATABASE_URL: database.kind === 'sqlite' ? `sqlite:${database.file}` : database.url,
        SLIMLAB_DATA_DIR: dataDir,
        SLIMLAB_PORT: '0',
        SLIMLAB_HOST: '127.0.0.1',
        SLIMLAB_WORKER_CONCURRENCY: '2',
        // Short leases, so a job the killed server's worker held is requeued within seconds.
        SLIMLAB_LEASE_SECONDS: '3',
        SLIMLAB_TEST_EXECUTOR: executor,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const match = /LISTENING (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`child server exited with ${code}: ${stderr}`)));
    });
    return new ChildServer(child, url);
  }

  async gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: T; errors?: unknown[] };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  /** SIGKILL: no shutdown hook runs, as when the machine or the process dies. */
  async kill(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}
