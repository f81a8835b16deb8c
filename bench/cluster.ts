/**
 * The scale-out shape under load, every figure measured on real processes over loopback:
 *
 * - API latency while training: `npm start`'s shape (server/main.ts on SQLite, which spawns its
 *   worker child) runs the real tfjs trainer; 200 `{ projects { id } }` queries spread over a
 *   window of the training that includes epoch ends.
 * - Claims per second: noop jobs queued in bulk on PostgreSQL, claimed and completed through the
 *   worker protocol by 1, 2 and 4 worker processes (first start to last finish, server clock).
 * - Metric points per second: one worker streams metrics through the protocol; counted when they
 *   reach a trainingProgress subscriber of the same replica.
 * - Lost and duplicated events: a subscriber on replica A while the job's worker is SIGKILLed and
 *   then replica B (the one its workers report through first) is SIGKILLed; what the subscriber saw
 *   against what the database stored.
 *
 * Prints a table; the last line is one JSON object.   npm run bench:cluster
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { graphqlAt, type ChildWorker } from '../tests/support/child';
import { ATTEMPT_METRIC, STREAM_METRICS } from '../tests/support/cluster-plugins';
import { Cluster, jobOf, jobWhen, queueTraining, series } from '../tests/support/cluster';
import { seedTinySearch } from '../tests/support/fixtures';
import { eventually } from '../tests/support/server';

const API_QUERIES = 200;
const API_SPACING_MS = 50;
const CLAIM_JOBS = 200;
const WORKER_COUNTS = [1, 2, 4] as const;
const STREAM_STEPS = 2_500;
const FAULT_STEPS = 120;

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const api = await apiLatencyDuringTraining();
  rows.push(['API p99 / max during training (ms)', `${api.p99.toFixed(1)} / ${api.max.toFixed(1)}`]);
  rows.push(['  window: epoch ends crossed, job state after', `${api.epochEnds}, ${api.stateAfter}`]);
  const claims: Record<string, number> = {};
  for (const workers of WORKER_COUNTS) {
    claims[workers] = await claimsPerSecond(workers);
    rows.push([`claims/s with ${workers} worker(s)`, claims[workers]!.toFixed(1)]);
  }
  const points = await metricPointsPerSecond();
  rows.push(['metric points/s to a subscriber', points.toFixed(0)]);
  const fault = await eventsUnderFaults();
  rows.push(['fault scenario: stored / lost / duplicated events', `${fault.stored} / ${fault.lost} / ${fault.duplicated}`]);

  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  console.log(
    JSON.stringify({
      api_p99_ms_during_training: round(api.p99),
      api_max_ms_during_training: round(api.max),
      api_window_epoch_ends: api.epochEnds,
      api_training_state_after_window: api.stateAfter,
      claims_per_s: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, round(v)])),
      metric_points_per_s: Math.round(points),
      fault_events_stored: fault.stored,
      lost_events: fault.lost,
      duplicated_events: fault.duplicated,
    }),
  );
}

/** server/main.ts as `npm start` runs it, with the TypeScript sources under tsx. */
async function startEmbedded(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '..', 'server', 'main.ts')], {
    env: { ...process.env, SLIMLAB_DATA_DIR: dataDir, SLIMLAB_DATABASE_URL: '', SLIMLAB_HOST: '127.0.0.1', SLIMLAB_PORT: '0', SLIMLAB_ORT_PROVIDER: 'cpu' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('server/main.ts did not start within 120 s')), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /GraphQL at (\S+)\/graphql/.exec(out);
      if (match) {
        clearTimeout(timer);
        done(match[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`server/main.ts exited with ${code}`)));
  });
  return { url, child };
}

async function apiLatencyDuringTraining(): Promise<{ p99: number; max: number; epochEnds: number; stateAfter: string }> {
  const EPOCHS = 4;
  const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-bench-embedded-'));
  const { url, child } = await startEmbedded(dataDir);
  const client = graphqlAt(url);
  try {
    // 1536 training images in batches of 32: 48 steps an epoch.
    const { spaceId, datasetId } = await seedTinySearch(client, 'bench', { trainSize: 2048 });
    const job = await queueTraining(client, spaceId, datasetId, 'sn', EPOCHS);
    const before = await jobWhen(client, job.id, (j) => j.state === 'RUNNING' && j.progress > 0, 180_000);
    const latencies: number[] = [];
    for (let i = 0; i < API_QUERIES; i++) {
      const start = process.hrtime.bigint();
      await client.gql('{ projects { id } }');
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      await delay(API_SPACING_MS);
    }
    const after = await jobOf(client, job.id);
    const epochEnds = Math.floor(after.progress * EPOCHS) - Math.floor(before.progress * EPOCHS);
    return { p99: percentile(latencies, 0.99), max: Math.max(...latencies), epochEnds, stateAfter: after.state === 'FAILED' ? `FAILED (${after.error})` : after.state };
  } finally {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function claimsPerSecond(workers: number): Promise<number> {
  const cluster = await Cluster.create('postgresql', { leaseSeconds: 30 });
  try {
    const replica = await cluster.replica();
    const { spaceId, datasetId, projectId } = await seedTinySearch(replica, `claims-${workers}`);
    for (let i = 0; i < CLAIM_JOBS; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => queueTraining(replica, spaceId, datasetId, `sn-${i + k}`, 1)));
    }
    await Promise.all(Array.from({ length: workers }, () => cluster.worker([replica], { plugins: ['noop'] })));
    // Polled rarely and cheaply: listing every job often would cost the server more than the claims measured.
    await eventually(
      async () => {
        for (const state of ['QUEUED', 'RUNNING']) {
          const { jobs: left } = await replica.gql(`query($p: ID!, $s: JobState!) { jobs(filter: { projectId: $p, state: $s }, first: 1) { id } }`, { p: projectId, s: state });
          if (left.length > 0) return undefined;
        }
        return true;
      },
      300_000,
      500,
    );
    const { jobs } = await replica.gql<{ jobs: { startedAt: string; finishedAt: string }[] }>(`query($p: ID!) { jobs(filter: { projectId: $p }, first: 500) { startedAt finishedAt } }`, { p: projectId });
    const first = Math.min(...jobs.map((j) => Date.parse(j.startedAt)));
    const last = Math.max(...jobs.map((j) => Date.parse(j.finishedAt)));
    return (jobs.length * 1000) / Math.max(1, last - first);
  } finally {
    await cluster.close();
  }
}

async function metricPointsPerSecond(): Promise<number> {
  const cluster = await Cluster.create('postgresql', { leaseSeconds: 30 });
  try {
    const replica = await cluster.replica();
    const { spaceId, datasetId } = await seedTinySearch(replica, 'stream');
    const job = await queueTraining(replica, spaceId, datasetId, 'sn', STREAM_STEPS);
    const progress = replica.subscribe<{ trainingProgress: { points: unknown[] } }>(`subscription($r: ID!) { trainingProgress(runId: $r) { points { step } } }`, {
      r: job.payload.runId,
    });
    await progress.ready;
    // The worker starts only now, so the subscriber is there for every point.
    await cluster.worker([replica], { plugins: ['stream'] });
    const started = process.hrtime.bigint();
    const expected = STREAM_STEPS * STREAM_METRICS.length;
    await eventually(async () => {
      if (replica.exited) throw new Error(`the replica died: ${replica.stderr}`);
      return progress.all().reduce((n, e) => n + e.trainingProgress.points.length, 0) >= expected ? true : undefined;
    }, 300_000);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    progress.close();
    return expected / seconds;
  } finally {
    await cluster.close();
  }
}

async function eventsUnderFaults(): Promise<{ stored: number; lost: number; duplicated: number }> {
  const cluster = await Cluster.create('postgresql', { leaseSeconds: 3 });
  try {
    const a = await cluster.replica();
    const b = await cluster.replica();
    const workers: ChildWorker[] = [];
    for (let i = 0; i < 2; i++) workers.push(await cluster.worker([b, a], { plugins: ['steps'], stepMs: 50 }));
    const { spaceId, datasetId } = await seedTinySearch(a, 'faults');
    const job = await queueTraining(a, spaceId, datasetId, 'sn', FAULT_STEPS);
    const runId = job.payload.runId;
    const seen = a.subscribe<{ trainingProgress: { points: { step: number }[] } }>(`subscription($r: ID!) { trainingProgress(runId: $r) { points { step } } }`, {
      r: runId,
    });
    await seen.ready;
    const holder = await jobWhen(a, job.id, (j) => j.state === 'RUNNING' && j.progress >= 0.2, 120_000);
    await workers.find((w) => w.workerId === holder.workerId)!.kill();
    await jobWhen(a, job.id, (j) => j.state === 'RUNNING' && j.attempts === 2 && j.progress >= 0.5, 120_000);
    await b.kill();
    await jobWhen(a, job.id, (j) => j.state === 'SUCCEEDED', 120_000);
    const stored = (await series(a, runId, ATTEMPT_METRIC)).map((p) => p.step);
    // Publishing follows the commit; give the last events a moment to arrive.
    await delay(1_000);
    const steps = seen.all().flatMap((e) => e.trainingProgress.points.map((p) => p.step));
    seen.close();
    const unique = new Set(steps);
    return { stored: stored.length, lost: stored.filter((s) => !unique.has(s)).length, duplicated: steps.length - unique.size };
  } finally {
    await cluster.close();
  }
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
