import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer, ChildWorker, type ChildExecutor, type ChildWorkerOptions } from './child';
import { scratchDatabase, type DatabaseKind, type ScratchDatabase } from './databases';
import type { GraphQLClient } from './fixtures';
import { eventually } from './server';

/** The shared secret of every test cluster's workers (SLIMLAB_WORKER_TOKEN accepts 16+ printable characters). */
export const WORKER_TOKEN = 'cluster-test-worker-token-0f3c9a';

export const CLUSTER_JOB_FIELDS = 'id state attempts progress result error workerId payload attemptHistory { attempt workerId outcome error }';

export interface ClusterJob {
  id: string;
  state: string;
  attempts: number;
  progress: number;
  result: any;
  error: string | null;
  workerId: string | null;
  payload: { runId: string; supernetId: string };
  attemptHistory: { attempt: number; workerId: string; outcome: string; error: string | null }[];
}

/**
 * Server replicas and workers as separate processes over one scratch database, torn down together
 * (stopped processes included) however the test ends. Replicas share one data folder, as replicas
 * behind one artifact store do.
 */
export class Cluster {
  readonly replicas: ChildServer[] = [];
  readonly workers: ChildWorker[] = [];

  private constructor(
    private readonly scratch: ScratchDatabase,
    readonly dataDir: string,
    private readonly leaseSeconds: number,
  ) {}

  static async create(kind: DatabaseKind = 'postgresql', { leaseSeconds = 3 } = {}): Promise<Cluster> {
    return new Cluster(await scratchDatabase(kind), mkdtempSync(join(tmpdir(), 'slimlab-cluster-')), leaseSeconds);
  }

  /**
   * A server replica; with no in-process worker unless asked. Start replicas one after another: each
   * applies pending migrations at start.
   */
  async replica(executor: ChildExecutor = 'none'): Promise<ChildServer> {
    const replica = await ChildServer.start(this.scratch.target, this.dataDir, executor, { workerToken: WORKER_TOKEN, leaseSeconds: this.leaseSeconds });
    this.replicas.push(replica);
    return replica;
  }

  async worker(servers: readonly ChildServer[], options: Omit<ChildWorkerOptions, 'servers' | 'token'>): Promise<ChildWorker> {
    const worker = await ChildWorker.start({ ...options, servers: servers.map((s) => s.url), token: WORKER_TOKEN });
    this.workers.push(worker);
    return worker;
  }

  async close(): Promise<void> {
    // SIGKILL ends stopped processes too; nothing here waits on a graceful stop.
    await Promise.all([...this.workers, ...this.replicas].map((p) => p.kill().catch(() => undefined)));
    await this.scratch.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Queues a supernet training whose recipe.epochs is the steps plugin's step count. */
export async function queueTraining(client: GraphQLClient, spaceId: string, datasetId: string, name: string, epochs: number, batchSize = 32): Promise<ClusterJob> {
  const { trainSupernet } = await client.gql(
    `mutation($s: ID!, $d: ID!, $n: String!, $e: Int!, $b: Int!) {
       trainSupernet(input: { name: $n, searchSpaceId: $s, datasetId: $d, recipe: { epochs: $e, batchSize: $b } }) { ${CLUSTER_JOB_FIELDS} } }`,
    { s: spaceId, d: datasetId, n: name, e: epochs, b: batchSize },
  );
  return trainSupernet as ClusterJob;
}

export async function jobOf(client: GraphQLClient, id: string): Promise<ClusterJob> {
  const { job } = await client.gql(`query($id: ID!) { job(id: $id) { ${CLUSTER_JOB_FIELDS} } }`, { id });
  return job as ClusterJob;
}

/** Polls the job until `predicate` holds; a job that fails meanwhile fails the wait with its error. */
export function jobWhen(client: GraphQLClient, id: string, predicate: (job: ClusterJob) => boolean, timeoutMs = 60_000): Promise<ClusterJob> {
  return eventually(async () => {
    const job = await jobOf(client, id);
    if (predicate(job)) return job;
    if (job.state === 'FAILED') throw new Error(`job ${id} failed: ${job.error}`);
    return undefined;
  }, timeoutMs);
}

/** Every stored point of one metric of a run, in step order (at most the API's 10,000). */
export async function series(client: GraphQLClient, runId: string, key: string): Promise<{ step: number; value: number }[]> {
  const { runHistory } = await client.gql(
    `query($r: ID!, $k: String!) { runHistory(runId: $r, keys: [$k], maxPoints: 10000) { totalPoints points { step value } } }`,
    { r: runId, k: key },
  );
  const metric = runHistory[0] as { totalPoints: number; points: { step: number; value: number }[] } | undefined;
  if (metric && metric.totalPoints !== metric.points.length) throw new Error(`${key}: ${metric.totalPoints} points, too many to read unsampled`);
  return metric?.points ?? [];
}

/** 1, 2, …, n */
export function steps(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
