import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { ExecutorPlugin, Logger } from '../../executors/contract';
import { startServer, type RunningServer } from '../../server/app';
import { loadLimits, type DatabaseTarget, type ServerConfig } from '../../server/config';
import { Dataset } from '../../server/entities';
import { datasetSpec } from '../../server/services/dataset-service';
import { scratchDatabase, type DatabaseKind, type ScratchDatabase } from './databases';
import type { JobDataset } from './streamed';

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; field?: string };
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

export const quietLog: Logger = { info: () => undefined, warn: () => undefined };

/** A real server on a free port with a scratch database, and clients that speak to it over the wire. */
export class TestServer {
  private wsClient: Client | null = null;

  private constructor(
    readonly server: RunningServer,
    readonly database: DatabaseTarget,
    readonly dataDir: string,
    private readonly scratch: ScratchDatabase | null,
  ) {}

  static async start(
    kind: DatabaseKind,
    plugins: readonly ExecutorPlugin[] = [],
    reuse?: { database: DatabaseTarget; dataDir: string },
    overrides: Partial<ServerConfig> = {},
    log: Logger = quietLog,
  ): Promise<TestServer> {
    const scratch = reuse ? null : await scratchDatabase(kind);
    const database = reuse?.database ?? scratch!.target;
    const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'slimlab-data-'));
    const server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        auth: false,
        dataDir,
        database,
        embeddedWorker: false,
        workerConcurrency: 2,
        workerToken: null,
        maxUploadMb: 1024,
        leaseSeconds: 60,
        ortProvider: 'cpu',
        ortThreads: 1,
        latencyThreads: 1,
        // Tests write their datasets to fresh temporary folders.
        datasetRoots: [tmpdir(), '/usr/share/datasets'],
        datasetMaxFileMb: 2048,
        datasetMaxImageSide: 4096,
        maxDatasetUploadMb: 2048,
        limits: loadLimits({}),
        allowedOrigins: [],
        ...overrides,
      },
      { plugins, log },
    );
    return new TestServer(server, database, dataDir, scratch);
  }

  get url(): string {
    return this.server.url;
  }

  async raw<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse<T>;
  }

  /** Runs an operation that must succeed and returns its data. */
  async gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await this.raw<T>(query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data as T;
  }

  /** Runs an operation that must fail, and returns its first error. */
  async gqlError(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLErrorShape> {
    const res = await this.raw(query, variables);
    if (!res.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
    return res.errors[0]!;
  }

  /** A graphql-ws subscription whose events arrive in a queue the test can await. */
  subscribe<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Subscription<T> {
    this.wsClient ??= createClient({ url: `${this.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    return new Subscription<T>(this.wsClient, query, variables);
  }

  /** What a job is handed for the stored dataset `id`; the manifest is read from this server's blob store. */
  async jobDataset(id: string): Promise<JobDataset> {
    const em = this.server.orm.em.fork();
    const spec = await datasetSpec(em, await em.findOneOrFail(Dataset, id));
    return { spec, readBlob: (ref) => readFile(fileURLToPath(ref.uri)) };
  }

  async stop({ keepData = false } = {}): Promise<void> {
    await this.wsClient?.dispose();
    await this.server.stop();
    if (!keepData) {
      await this.scratch?.drop();
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

export class Subscription<T> {
  private readonly received: T[] = [];
  private readonly waiters: (() => void)[] = [];
  private failure: unknown = null;
  private readonly unsubscribe: () => void;
  /**
   * Resolves once a query sent after the subscription, on the same socket, has been answered: the
   * protocol has no subscription acknowledgement, and by then the server has set the subscription up.
   */
  readonly ready: Promise<void>;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors?.length) this.failure = new Error(JSON.stringify(value.errors));
          else this.received.push(value.data as T);
          this.waiters.splice(0).forEach((wake) => wake());
        },
        error: (error) => {
          this.failure = error;
          this.waiters.splice(0).forEach((wake) => wake());
        },
        complete: () => undefined,
      },
    );
    this.ready = new Promise((resolve, reject) =>
      client.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: reject, complete: resolve }),
    );
  }

  /** Waits until `count` events have arrived and returns them all. */
  async take(count: number, timeoutMs = 20_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.received.length} of ${count} events: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  /** Waits for the first event that satisfies `predicate`. */
  async until(predicate: (event: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; seen++) {
      const [event] = (await this.take(seen + 1, Math.max(1, deadline - Date.now()))).slice(seen);
      if (predicate(event!)) return event!;
    }
  }

  all(): T[] {
    return [...this.received];
  }

  close(): void {
    this.unsubscribe();
  }
}

/** Polls until `check` returns a value that is not undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
