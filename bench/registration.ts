/**
 * Does registering a dataset hold up the API? Starts the server (`node dist/server/main.js`, local
 * mode, SQLite, a fresh data folder, no worker), registers each dataset three times under new names
 * while /healthz is asked every 10 ms, and reports how long registration took and the slowest
 * /healthz answer meanwhile: the time the event loop was blocked, at most.
 *
 *   npm run bench:registration -- [folder of an IMAGE_FOLDER dataset]
 *
 * Fashion-MNIST (IDX, /usr/share/datasets/fashion-mnist) always; the image folder when given (for
 * example bench:data's 50,000 JPEGs under os.tmpdir()/slimlab-bench-data-50k). Only 127.0.0.1 is
 * contacted. The last line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const PORT = 4600 + Math.floor(Math.random() * 300);
const BASE = `http://127.0.0.1:${PORT}`;
const SERVER_MAIN = join(__dirname, '..', 'server', 'main.js');
const FASHION = '/usr/share/datasets/fashion-mnist';
const RUNS = 3;
const POLL_MS = 10;

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30 * 60_000),
  });
  const answer = (await response.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
  if (answer.errors?.length) throw new Error(answer.errors.map((e) => e.message).join('; '));
  return answer.data!;
}

async function start(dataDir: string, roots: string[]): Promise<ChildProcess> {
  const env = { ...process.env, SLIMLAB_PORT: String(PORT), SLIMLAB_HOST: '127.0.0.1', SLIMLAB_DATA_DIR: dataDir, SLIMLAB_EMBEDDED_WORKER: 'false', SLIMLAB_DATASET_ROOTS: roots.join(':') };
  const server = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  process.once('exit', () => server.kill('SIGKILL'));
  for (let tries = 0; tries < 300; tries++) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    if (await fetch(`${BASE}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)) return server;
    await sleep(200);
  }
  throw new Error('the server did not answer /healthz within 60 s');
}

/** Polls /healthz until `done` settles; the slowest answer, in ms. */
async function slowestHealth(done: Promise<unknown>): Promise<number> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let slowest = 0;
  for (let polls = 0; !finished && polls < 1_000_000; polls++) {
    const began = performance.now();
    await fetch(`${BASE}/healthz`, { signal: AbortSignal.timeout(60_000) });
    slowest = Math.max(slowest, performance.now() - began);
    await sleep(POLL_MS);
  }
  return slowest;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const folder = process.argv[2];
  const datasets: { label: string; format: string; path: string }[] = [{ label: 'fashion-mnist (IDX, 70,000 images, gzipped)', format: 'IDX', path: FASHION }];
  if (folder) datasets.push({ label: `image folder ${folder}`, format: 'IMAGE_FOLDER', path: folder });
  const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-bench-registration-'));
  const loadStart = loadavg().map((v) => round(v, 2));
  const server = await start(dataDir, [dirname(FASHION), ...(folder ? [dirname(folder)] : [])]);
  try {
    const { createProject } = await gql('mutation { createProject(input: { name: "registration" }) { id } }');
    const results: Record<string, { seconds: number[]; slowestHealthMs: number[] }> = {};
    for (const dataset of datasets) {
      const result = { seconds: [] as number[], slowestHealthMs: [] as number[] };
      for (let run = 0; run < RUNS; run++) {
        const began = performance.now();
        const registered = gql(
          `mutation($p: ID!, $n: String!, $f: DatasetFormat!, $path: String!) { registerDataset(input: { projectId: $p, name: $n, format: $f, path: $path }) { trainSize } }`,
          { p: createProject.id, n: `${dataset.format}-${run}`, f: dataset.format, path: dataset.path },
        );
        const slowest = await slowestHealth(registered);
        await registered;
        result.seconds.push(round((performance.now() - began) / 1000, 2));
        result.slowestHealthMs.push(round(slowest));
      }
      results[dataset.label] = result;
      console.log(
        `${dataset.label}: registration ${median(result.seconds)} s (${Math.min(...result.seconds)}–${Math.max(...result.seconds)}), ` +
          `slowest /healthz meanwhile ${median(result.slowestHealthMs)} ms (${Math.min(...result.slowestHealthMs)}–${Math.max(...result.slowestHealthMs)})`,
      );
    }
    console.log(JSON.stringify({ runs: RUNS, results, loadAverage: { start: loadStart, end: loadavg().map((v) => round(v, 2)) } }));
  } finally {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
