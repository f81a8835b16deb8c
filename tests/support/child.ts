import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { DatabaseTarget } from '../../server/config';
import type { GraphQLClient } from './fixtures';
import { Subscription } from './server';

export type ChildSignal = 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM';

/** How long a child may take to say it is ready: tsx compiles on start, and CI has two cores. */
const START_TIMEOUT_MS = 120_000;
/** Every GraphQL request of a test is bounded; a hung replica fails the test instead of hanging it. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A test's child process: spawned with tsx, its stderr kept for failure messages, signalled and awaited. */
abstract class TestProcess {
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  protected constructor(
    protected readonly child: ChildProcess,
    private readonly output: { stderr: string },
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      }),
    );
  }

  /**
   * Spawns a TypeScript entry with an IPC channel: the entries exit when it closes, so a child
   * never outlives a test process that was killed. Resolves with the child and the first stdout
   * match of `ready`.
   */
  protected static spawnEntry(
    entry: string,
    env: NodeJS.ProcessEnv,
    ready: RegExp,
  ): Promise<{ child: ChildProcess; output: { stderr: string }; match: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, entry)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output = { stderr: '' };
    child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${entry} did not start within ${START_TIMEOUT_MS / 1000} s: ${output.stderr}`));
      }, START_TIMEOUT_MS);
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = ready.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve({ child, output, match: match[1]! });
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited (${signal ?? code}) before it was ready: ${output.stderr}`));
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): boolean {
    return this.exitStatus !== null;
  }

  /** What the process wrote to stderr so far, for assertions and failure messages. */
  get stderr(): string {
    return this.output.stderr;
  }

  signal(signal: ChildSignal): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** SIGKILL: no shutdown hook runs, as when the machine or the process dies. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.waitForExit();
  }

  waitForExit(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process ${this.pid} did not exit within ${timeoutMs / 1000} s: ${this.output.stderr}`)), timeoutMs);
    });
    return Promise.race([this.exit, late]).finally(() => clearTimeout(timer));
  }
}

/** A GraphQL client of any slimlab server by URL, each request bounded in time. */
export function graphqlAt(url: string): GraphQLClient {
  return {
    async gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await res.json()) as { data: T; errors?: unknown[] };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
  };
}

export type ChildExecutor = 'stuck' | 'tfjs' | 'onnx' | 'none';

export interface ChildServerOptions {
  /** The secret remote workers authenticate with (SLIMLAB_WORKER_TOKEN). */
  readonly workerToken?: string;
  /** Short leases, so a job whose worker died is requeued within seconds. */
  readonly leaseSeconds?: number;
}

/** A slimlab server in a child process (tests/support/child-server.ts), for tests that kill it. */
export class ChildServer extends TestProcess {
  private wsClient: Client | null = null;

  private constructor(
    child: ChildProcess,
    output: { stderr: string },
    readonly url: string,
  ) {
    super(child, output);
  }

  /** `executor: 'none'` starts a replica with no in-process worker: worker processes do its jobs. */
  static async start(database: DatabaseTarget, dataDir: string, executor: ChildExecutor, options: ChildServerOptions = {}): Promise<ChildServer> {
    const { child, output, match } = await TestProcess.spawnEntry(
      'child-server.ts',
      {
        SLIMLAB_DATABASE_URL: database.kind === 'sqlite' ? `sqlite:${database.file}` : database.url,
        SLIMLAB_DATA_DIR: dataDir,
        SLIMLAB_PORT: '0',
        SLIMLAB_HOST: '127.0.0.1',
        SLIMLAB_WORKER_CONCURRENCY: '2',
        SLIMLAB_LEASE_SECONDS: String(options.leaseSeconds ?? 3),
        SLIMLAB_WORKER_TOKEN: options.workerToken ?? '',
        SLIMLAB_TEST_EXECUTOR: executor,
      },
      /LISTENING (\S+)/,
    );
    return new ChildServer(child, output, match);
  }

  gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return graphqlAt(this.url).gql<T>(query, variables);
  }

  /** A graphql-ws subscription to this replica; it fails (never reconnects) when the replica dies. */
  subscribe<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Subscription<T> {
    this.wsClient ??= createClient({ url: `${this.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    return new Subscription<T>(this.wsClient, query, variables);
  }

  override async kill(): Promise<void> {
    await super.kill();
    await this.wsClient?.dispose();
  }

  /** SIGTERM: a graceful stop (its in-process worker hands its jobs back). */
  async stop(): Promise<void> {
    await this.wsClient?.dispose();
    this.signal('SIGTERM');
    await this.waitForExit();
  }
}

export type WorkerPlugin = 'tfjs' | 'steps' | 'noop' | 'stream';

export interface ChildWorkerOptions {
  /** Server replicas, tried in this order. */
  readonly servers: readonly string[];
  readonly token: string;
  /** Preference order. */
  readonly plugins: readonly WorkerPlugin[];
  readonly concurrency?: number;
  /** How long each step of the steps plugin takes. */
  readonly stepMs?: number;
}

/** A `slimlab worker`-like process (tests/support/child-worker.ts) with test plugins. */
export class ChildWorker extends TestProcess {
  private constructor(
    child: ChildProcess,
    output: { stderr: string },
    readonly workerId: string,
  ) {
    super(child, output);
  }

  /** Resolves once the worker has registered with one of its servers. */
  static async start(options: ChildWorkerOptions): Promise<ChildWorker> {
    const { child, output, match } = await TestProcess.spawnEntry(
      'child-worker.ts',
      {
        SLIMLAB_TEST_SERVERS: options.servers.join(','),
        SLIMLAB_WORKER_TOKEN: options.token,
        SLIMLAB_TEST_WORKER_PLUGINS: options.plugins.join(','),
        SLIMLAB_WORKER_CONCURRENCY: String(options.concurrency ?? 1),
        SLIMLAB_TEST_STEP_MS: String(options.stepMs ?? 100),
      },
      /WORKER (\S+)/,
    );
    return new ChildWorker(child, output, match);
  }

  /** SIGTERM: the worker hands its running jobs back to the queue and exits. */
  async stop(): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    await this.waitForExit();
  }
}
