/**
 * Replays the attacks of issue #12 ("Probed as a hostile but legitimate tester would...") against
 * the real server, started the way an operator starts it (`node dist/server/main.js`, auth on, on
 * loopback, a fresh SQLite data folder, no embedded worker), and prints for each attack what it
 * got on the old main (from the issue) and what it gets now.
 *
 *   npm run build && npm run bench:attacks
 *
 * Users are made with the real CLI (`slimlab admin ...`) before the server starts: an admin, alice
 * (a member of her own project, holding a running job and a 4 MB checkpoint) and mallory (a
 * signed-in user with no membership, who plays the attacker for the cross-project rows). Every
 * request is bounded by REQUEST_TIMEOUT_MS; after each attack /healthz must answer within 1 s, and
 * while it runs /healthz is polled to see whether the event loop stalled. Only 127.0.0.1 is ever
 * contacted. The table goes to stdout and to bench/results/attacks.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32, createDeflate, createGzip } from 'node:zlib';
import WebSocket from 'ws';

const REPO = resolve(__dirname, '..');
const SERVER_MAIN = join(REPO, 'dist', 'server', 'main.js');
const CLI_MAIN = join(REPO, 'dist', 'cli', 'main.js');
const RESULTS = join(REPO, 'bench', 'results', 'attacks.md');
const HOST = '127.0.0.1';
const REQUEST_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 1_000;
const MESSAGE_CHARS = 160;

// ---------------------------------------------------------------------------------------------
// What an attack got, and how a row of the table is made of it
// ---------------------------------------------------------------------------------------------

interface Outcome {
  /** "HTTP 401", "WS 403 at upgrade", "WS close 1009", "exit 2", "no answer". */
  readonly status: string;
  /** extensions.code of the first error, the close reason, or "-" for data. */
  readonly code: string;
  readonly message: string;
  /** The attacker got what it wanted (data, an effect, a hang). */
  readonly succeeded: boolean;
  /** The refusal is a JSON `{ errors: [{ message, extensions: { code } }] }`, a WebSocket close code, or a start-up message. */
  readonly coded: boolean;
  /** The refusal is the one the README promises (status and code); false flags a surprise worth reading. */
  readonly expected: boolean;
}

interface Attack {
  readonly name: string;
  /** What the issue measured on the old main. */
  readonly before: string;
  run(lab: Lab): Promise<Outcome>;
}

interface Row {
  readonly attack: Attack;
  readonly outcome: Outcome;
  readonly ms: number;
  readonly healthDuring: HealthWatch;
  readonly healthAfter: { ok: boolean; ms: number };
  readonly rssMb: readonly [number, number];
}

// ---------------------------------------------------------------------------------------------
// Talking to the server: HTTP with a timeout, GraphQL, graphql-ws, health and memory
// ---------------------------------------------------------------------------------------------

/** Where the server answers; the set-up needs it before the whole Lab exists. */
interface Target {
  readonly url: string;
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly json: any;
}

async function http(url: string, init: RequestInit & { token?: string } = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

function gql(lab: Target, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer> {
  return http(`${lab.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    token,
  });
}

/** For the set-up: data or a thrown error naming what failed. */
async function gqlData(lab: Target, query: string, variables: Record<string, unknown>, token: string): Promise<any> {
  const answer = await gql(lab, query, variables, token);
  if (!answer.json?.data || answer.json.errors) throw new Error(`set-up query failed (HTTP ${answer.status}): ${answer.text.slice(0, 500)}`);
  return answer.json.data;
}

function firstError(answer: Answer): { code: string; message: string } | null {
  const error = answer.json?.errors?.[0];
  if (!error) return null;
  return { code: String(error.extensions?.code ?? '(no code)'), message: String(error.message ?? '') };
}

function clip(text: string, chars = MESSAGE_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > chars ? `${flat.slice(0, chars - 1)}…` : flat;
}

/**
 * An HTTP answer as an Outcome: a refusal is coded when it is JSON with extensions.code; the
 * attack is held when status and code are the promised ones, and succeeded when data came back.
 */
function fromHttp(answer: Answer, expect: { status: number; codes: readonly string[] }): Outcome {
  const error = firstError(answer);
  const json = answer.contentType.includes('json') && answer.json !== null;
  if (!error) {
    const gotData = answer.status < 300;
    return {
      status: `HTTP ${answer.status}`,
      code: json ? '-' : `(${answer.contentType || 'no content-type'})`,
      message: clip(answer.text),
      succeeded: gotData,
      coded: false,
      expected: false,
    };
  }
  return {
    status: `HTTP ${answer.status}`,
    code: error.code,
    message: clip(error.message),
    succeeded: false,
    coded: json,
    expected: answer.status === expect.status && expect.codes.includes(error.code),
  };
}

/** What went over one graphql-ws connection. */
interface SocketLog {
  upgradeStatus?: number;
  upgradeBody?: string;
  acked: boolean;
  closeCode?: number;
  closeReason?: string;
  /** The payload of the first `next` or `error` message. */
  result?: any;
  error?: string;
  timedOut: boolean;
}

/**
 * Opens a graphql-transport-ws connection as a browser page (with `origin`) or a client (without),
 * sends connection_init (with the token, if any) and, once acknowledged, the `subscribe` message
 * `message()` makes; ends at the first result, at the close, or after REQUEST_TIMEOUT_MS.
 */
function socketSession(lab: Lab, options: { origin?: string; token?: string; message: () => string }): Promise<SocketLog> {
  return new Promise((done) => {
    const log: SocketLog = { acked: false, timedOut: false };
    const ws = new WebSocket(`${lab.wsUrl}/graphql`, 'graphql-transport-ws', {
      ...(options.origin ? { origin: options.origin } : {}),
      handshakeTimeout: REQUEST_TIMEOUT_MS,
    });
    const finish = () => {
      clearTimeout(timer);
      done(log);
    };
    const timer = setTimeout(() => {
      log.timedOut = true;
      ws.terminate();
      finish();
    }, REQUEST_TIMEOUT_MS);
    ws.on('unexpected-response', (_req, res) => {
      log.upgradeStatus = res.statusCode;
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        log.upgradeBody = body;
        finish();
      });
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: options.token ? { authorization: `Bearer ${options.token}` } : {} })));
    ws.on('message', (raw) => {
      const message = JSON.parse(raw.toString());
      if (message.type === 'connection_ack') {
        log.acked = true;
        ws.send(options.message());
      } else if (message.type === 'next' || message.type === 'error') {
        log.result = message.type === 'next' ? message.payload : { errors: message.payload };
        ws.close(1000);
      }
    });
    ws.on('close', (code, reason) => {
      log.closeCode = code;
      log.closeReason = reason.toString();
      finish();
    });
    ws.on('error', (error) => (log.error = error.message));
  });
}

function subscribeMessage(query: string, variables: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } });
}

/** A socket session as an Outcome; `held` says which end the README promises for this attack. */
function fromSocket(log: SocketLog, held: (log: SocketLog) => boolean): Outcome {
  const succeeded = Boolean(log.result?.data) || log.timedOut;
  if (log.upgradeStatus !== undefined) {
    const body = (() => {
      try {
        return JSON.parse(log.upgradeBody ?? '');
      } catch {
        return null;
      }
    })();
    return {
      status: `WS ${log.upgradeStatus} at upgrade`,
      code: body?.errors?.[0]?.extensions?.code ?? '(plain text)',
      message: clip(log.upgradeBody ?? ''),
      succeeded,
      // The refusal is an HTTP answer to the upgrade request: coded only if its body is the API's JSON.
      coded: Boolean(body?.errors?.[0]?.extensions?.code),
      expected: held(log),
    };
  }
  const error = log.result?.errors?.[0];
  const status = log.timedOut ? 'no answer (timeout)' : `WS${log.acked ? ' ack,' : ''} close ${log.closeCode}`;
  return {
    status,
    code: error?.extensions?.code ?? (log.result?.data ? '-' : log.closeReason || '(no reason)'),
    message: clip(error?.message ?? (log.result?.data ? JSON.stringify(log.result.data) : log.error ?? '')),
    succeeded,
    coded: !log.timedOut,
    expected: held(log),
  };
}

interface HealthWatch {
  maxMs: number;
  failures: number;
}

/** Polls /healthz every 100 ms while an attack runs: a stalled event loop shows as a slow or failed probe. */
function watchHealth(lab: Target): { stop(): Promise<HealthWatch> } {
  const seen: HealthWatch = { maxMs: 0, failures: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const probe = await probeHealth(lab);
      seen.maxMs = Math.max(seen.maxMs, probe.ms);
      if (!probe.ok) seen.failures++;
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

async function probeHealth(lab: Target): Promise<{ ok: boolean; ms: number }> {
  const start = performance.now();
  try {
    const res = await fetch(`${lab.url}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await res.text();
    return { ok: res.ok, ms: performance.now() - start };
  } catch {
    return { ok: false, ms: performance.now() - start };
  }
}

/** The server's resident memory in MB, from the kernel (NaN once the process is gone). */
function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// The lab: a data folder, users made by the CLI, the server process, alice's job and checkpoint
// ---------------------------------------------------------------------------------------------

interface Lab {
  readonly url: string;
  readonly wsUrl: string;
  readonly server: ChildProcess;
  readonly pid: number;
  readonly dataDir: string;
  readonly fixtures: DatasetFixtures;
  readonly tokens: { admin: string; worker: string; alice: string; mallory: string };
  readonly alice: { projectId: string; jobId: string; artifactId: string };
  readonly serverLog: string[];
  stopHeartbeats(): void;
}

/** The environment without any SLIMLAB_* the caller happens to have, so every run starts alike. */
function slimlabEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SLIMLAB_')) env[key] = value;
  return { ...env, ...settings };
}

function serverEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  return slimlabEnv({
    SLIMLAB_AUTH: 'on',
    SLIMLAB_HOST: HOST,
    SLIMLAB_PORT: String(port),
    SLIMLAB_DATA_DIR: dataDir,
    SLIMLAB_EMBEDDED_WORKER: 'false',
  });
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/** `slimlab admin ...` against the data folder, as an operator bootstraps before the first start. */
function cli(env: NodeJS.ProcessEnv, args: readonly string[], stdin = ''): string {
  return execFileSync(process.execPath, [CLI_MAIN, ...args], { env, input: stdin, encoding: 'utf8', stdio: 'pipe', timeout: REQUEST_TIMEOUT_MS }).trim();
}

function bootstrapUsers(env: NodeJS.ProcessEnv): Lab['tokens'] {
  // The password comes from stdin, never the command line (README, Authentication).
  cli(env, ['admin', 'create-user', 'root', '--admin'], `${randomBytes(18).toString('base64url')}\n`);
  cli(env, ['admin', 'create-user', 'alice', '--no-password']);
  cli(env, ['admin', 'create-user', 'mallory', '--no-password']);
  return {
    admin: cli(env, ['admin', 'create-token', 'root', '--scope', 'read,write,admin', '--name', 'probe-admin']),
    // A worker credential, so a real artifact can be stored through the worker protocol (there is no other way).
    worker: cli(env, ['admin', 'create-token', 'root', '--scope', 'worker', '--name', 'probe-worker']),
    alice: cli(env, ['admin', 'create-token', 'alice', '--scope', 'read,write', '--name', 'probe']),
    mallory: cli(env, ['admin', 'create-token', 'mallory', '--scope', 'read,write', '--name', 'probe']),
  };
}

async function startServer(env: NodeJS.ProcessEnv, port: number, log: string[]): Promise<ChildProcess> {
  const server = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // However this script ends (a crash, Ctrl-C), the server it started must not outlive it.
  process.once('exit', () => server.kill('SIGKILL'));
  const keep = (stream: string) => (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean).map((line) => `${stream}: ${line}`));
  server.stdout!.on('data', keep('out'));
  server.stderr!.on('data', keep('err'));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}) before answering:\n${log.join('\n')}`);
    if ((await probeHealth({ url: `http://${HOST}:${port}` })).ok) return server;
    await sleep(200);
  }
  server.kill('SIGKILL');
  throw new Error(`the server did not answer /healthz within 60 s:\n${log.join('\n')}`);
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((done) => server.once('exit', done));
  server.kill('SIGTERM');
  if ((await Promise.race([exited, sleep(10_000, 'late')])) === 'late') server.kill('SIGKILL');
}

/** alice's project and a supernet job in it (the probe worker then runs it): the victim of the cross-project rows. */
async function seedAlice(lab: Target, token: string): Promise<{ projectId: string; jobId: string }> {
  const { createProject } = await gqlData(lab, 'mutation { createProject(input: { name: "alice-lab" }) { id } }', {}, token);
  const projectId: string = createProject.id;
  const { registerDataset } = await gqlData(
    lab,
    'mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "synthetic", format: SYNTHETIC, synthetic: {} }) { id } }',
    { p: projectId },
    token,
  );
  const { createSearchSpace } = await gqlData(
    lab,
    'mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "mbv2", architecture: "mbv2-fmnist" }) { id } }',
    { p: projectId },
    token,
  );
  const { trainSupernet } = await gqlData(
    lab,
    'mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id } }',
    { s: createSearchSpace.id, d: registerDataset.id },
    token,
  );
  return { projectId, jobId: trainSupernet.id };
}

/**
 * Plays a worker (with the admin's worker-scoped token) that claims alice's job and uploads a 4 MB
 * checkpoint, as the embedded worker would: the artifact mallory will then ask for. Heartbeats
 * keep the lease, so the job stays RUNNING for the whole probe.
 */
async function checkpointForAlice(lab: Target, workerToken: string, jobId: string): Promise<{ artifactId: string; stop(): void }> {
  const post = async (path: string, body: unknown) => {
    const answer = await http(`${lab.url}/worker/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      token: workerToken,
    });
    if (answer.status !== 200) throw new Error(`worker ${path} failed (HTTP ${answer.status}): ${answer.text.slice(0, 500)}`);
    return answer.json;
  };
  const capabilities = { backend: 'probe', provider: 'cpu', device: 'probe', versions: {} };
  const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;
  const { workerId } = await post('/register', {
    host: 'probe-host',
    pid: process.pid,
    version,
    concurrency: 1,
    executors: [{ name: 'probe', kinds: ['TRAIN_SUPERNET'], capabilities }],
  });
  const { job } = await post('/claim', { workerId, waitMs: 5_000 });
  if (job?.spec?.id !== jobId) throw new Error(`the probe worker claimed ${JSON.stringify(job)?.slice(0, 300)}, not alice's job ${jobId}`);
  const bytes = randomBytes(4 * 1024 * 1024);
  const upload = await http(`${lab.url}/worker/v1/jobs/${jobId}/artifacts?kind=CHECKPOINT&name=supernet.ckpt`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'x-slimlab-lease': `${job.lease.attempt}:${job.lease.token}`,
      'x-slimlab-sha256': createHash('sha256').update(bytes).digest('hex'),
    },
    body: bytes,
    token: workerToken,
  });
  if (upload.status !== 200) throw new Error(`checkpoint upload failed (HTTP ${upload.status}): ${upload.text.slice(0, 500)}`);
  const timer = setInterval(() => void post('/heartbeat', { workerId, leases: [{ jobId, token: job.lease.token }] }).catch(() => undefined), 2_000);
  return { artifactId: upload.json.id, stop: () => clearInterval(timer) };
}

async function openLab(): Promise<Lab> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-attacks-'));
  // However this script ends, its hostile files go too (Linux removes files a dying server still holds open).
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  let server: ChildProcess | null = null;
  try {
    const fixtures = await writeDatasetFixtures(join(dataDir, 'datasets'));
    const port = await freePort();
    const env = serverEnv(dataDir, port);
    const tokens = bootstrapUsers(env);
    const serverLog: string[] = [];
    server = await startServer(env, port, serverLog);
    const url = `http://${HOST}:${port}`;
    const seeded = await seedAlice({ url }, tokens.alice);
    const worker = await checkpointForAlice({ url }, tokens.worker, seeded.jobId);
    return {
      url,
      wsUrl: `ws://${HOST}:${port}`,
      server,
      pid: server.pid!,
      dataDir,
      fixtures,
      tokens,
      alice: { ...seeded, artifactId: worker.artifactId },
      serverLog,
      stopHeartbeats: worker.stop,
    };
  } catch (error) {
    // A set-up that fails halfway must not leave a server running or hostile files behind.
    if (server) await stopServer(server);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile files under $SLIMLAB_DATA_DIR/datasets (a dataset root by default)
// ---------------------------------------------------------------------------------------------

interface DatasetFixtures {
  readonly fifo: string;
  readonly zero: string;
  readonly bomb: string;
  readonly bombBytes: number;
  readonly png: string;
  readonly pngBytes: number;
}

const IDX = { trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte', testImages: 't10k-images-idx3-ubyte', testLabels: 't10k-labels-idx1-ubyte' };
const BOMB_IMAGES = 1_370_000; // what the issue's bomb was accepted as
const BOMB_ZERO_CHUNKS = 37; // × 64 MiB of zeros: 2.48 GB, which gzip makes about 2.4 MB
const PNG_SIDE = 20_000;

function idxHeader(dims: readonly number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08; // unsigned bytes
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

function idx(dims: readonly number[], fill: (i: number) => number): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  return Buffer.concat([idxHeader(dims), Buffer.from(Uint8Array.from({ length: count }, (_, i) => fill(i)))]);
}

/** A valid 28×28, 10-class IDX folder but for the files an attack replaces. */
function idxFolder(dir: string, replaced: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Buffer> = {
    [IDX.trainImages]: idx([20, 28, 28], (i) => i % 256),
    [IDX.trainLabels]: idx([20], (i) => i % 10),
    [IDX.testImages]: idx([10, 28, 28], (i) => i % 256),
    [IDX.testLabels]: idx([10], (i) => i % 10),
  };
  for (const [name, bytes] of Object.entries(files)) if (!replaced.includes(name)) writeFileSync(join(dir, name), bytes);
}

/**
 * The gzip bomb: a header that promises 1.37M 28×28 images (1.07 GB, under the 2 GB file limit),
 * then 2.48 GB of zeros; the labels match the header, so only reading the images can refuse it.
 */
async function writeGzipBomb(dir: string): Promise<number> {
  idxFolder(dir, [IDX.trainImages, IDX.trainLabels]);
  writeFileSync(join(dir, IDX.trainLabels), idx([BOMB_IMAGES], (i) => i % 10));
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  async function* content() {
    yield idxHeader([BOMB_IMAGES, 28, 28]);
    for (let i = 0; i < BOMB_ZERO_CHUNKS; i++) yield zeros;
  }
  const file = join(dir, `${IDX.trainImages}.gz`);
  await pipeline(Readable.from(content()), createGzip({ level: 9 }), createWriteStream(file));
  return readFileSync(file).length;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const framed = Buffer.alloc(12 + data.length);
  framed.writeUInt32BE(data.length, 0);
  body.copy(framed, 4);
  framed.writeUInt32BE(crc32(body), 8 + data.length);
  return framed;
}

/** A gray PNG of `width`×`height`, every row filter 0 and every pixel 0, deflated in 16 MB blocks so the pixels are never held at once. */
async function grayPng(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  const rowsPerBlock = Math.max(1, Math.floor((16 << 20) / (width + 1)));
  async function* scanlines() {
    const block = Buffer.alloc(rowsPerBlock * (width + 1));
    for (let row = 0; row < height; row += rowsPerBlock) yield block.subarray(0, Math.min(rowsPerBlock, height - row) * (width + 1));
  }
  const compressed: Buffer[] = [];
  await pipeline(Readable.from(scanlines()), createDeflate({ level: 9 }), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) compressed.push(chunk);
  });
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.concat(compressed)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** An image-folder tree whose first training image is a real 20000×20000 PNG (400 MB of pixels, ~400 KB of file). */
async function writeHugePngTree(dir: string): Promise<number> {
  const huge = await grayPng(PNG_SIDE, PNG_SIDE);
  const files: Record<string, Buffer> = {
    'train/a/0.png': huge,
    'train/a/1.png': await grayPng(4, 4),
    'train/b/0.png': await grayPng(4, 4),
    'test/a/0.png': await grayPng(4, 4),
    'test/b/0.png': await grayPng(4, 4),
  };
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return huge.length;
}

async function writeDatasetFixtures(root: string): Promise<DatasetFixtures> {
  const at = (name: string) => join(root, name);
  // A FIFO: opening it for reading blocks until someone writes, which nobody will.
  idxFolder(at('fifo'), [IDX.trainImages]);
  execFileSync('mkfifo', [join(at('fifo'), IDX.trainImages)]);
  // A link to /dev/zero: endless bytes from a "file" whose size is 0.
  idxFolder(at('zero'), [IDX.trainImages]);
  symlinkSync('/dev/zero', join(at('zero'), IDX.trainImages));
  const bombBytes = await writeGzipBomb(at('bomb'));
  const pngBytes = await writeHugePngTree(at('png'));
  return { fifo: at('fifo'), zero: at('zero'), bomb: at('bomb'), bombBytes, png: at('png'), pngBytes };
}

// ---------------------------------------------------------------------------------------------
// The attacks, in the issue's order
// ---------------------------------------------------------------------------------------------

const REFUSED_BY_LIMITS = ['QUERY_TOO_LARGE', 'QUERY_TOO_DEEP', 'QUERY_TOO_COMPLEX'];

/** `registerDataset` of a server path in alice's project: each attack a new name, so CONFLICT never masks the answer. */
function registerPath(lab: Lab, format: 'IDX' | 'IMAGE_FOLDER', path: string): Promise<Answer> {
  return gql(
    lab,
    `mutation($p: ID!, $n: String!, $f: DatasetFormat!, $path: String) {
      registerDataset(input: { projectId: $p, name: $n, format: $f, path: $path }) { id trainSize inputHeight inputWidth } }`,
    { p: lab.alice.projectId, n: `probe-${randomUUID().slice(0, 8)}`, f: format, path },
    lab.tokens.alice,
  );
}

function refusedInput(answer: Answer): Outcome {
  return fromHttp(answer, { status: 200, codes: ['BAD_USER_INPUT'] });
}

/** Two answers that must not differ but for the id they echo (no existence leak). */
function sameAnswer(a: Answer, b: Answer, ids: readonly string[]): boolean {
  const scrub = (text: string) => ids.reduce((t, id) => t.split(id).join('<id>'), text);
  return a.status === b.status && scrub(a.text) === scrub(b.text);
}

function nestedQuery(cycles: number): string {
  let inner = 'id';
  for (let i = 0; i < cycles; i++) inner = `id trajectories { id candidates { id trajectory { id supernet { ${inner} } } } }`;
  return `{ supernets { ${inner} } }`;
}

function aliasQuery(count: number): string {
  const fields = Array.from({ length: count }, (_, i) => `a${i}: profile(architecture: "resnet-50") { perLayer { name } }`);
  return `{ ${fields.join(' ')} }`;
}

function typenameQuery(bytes: number): string {
  return `{ ${'__typename '.repeat(Math.floor(bytes / 11))}}`;
}

const NESTED = nestedQuery(20);
const ALIASES_1000 = aliasQuery(1_000);
const ALIASES_3000 = aliasQuery(3_000);
const TYPENAMES = typenameQuery(9_900_000);

const ATTACKS: readonly Attack[] = [
  {
    name: 'read `projects` and `jobs { payload }` without a token',
    before: 'any client read every project and job payload (no auth at all)',
    run: async (lab) => fromHttp(await gql(lab, '{ projects { id name } jobs { id payload } }'), { status: 401, codes: ['UNAUTHENTICATED'] }),
  },
  {
    name: 'the same with a forged `slm_` token',
    before: '(no tokens existed)',
    run: async (lab) =>
      fromHttp(await gql(lab, '{ projects { id } }', {}, `slm_${randomBytes(32).toString('base64url')}`), { status: 401, codes: ['UNAUTHENTICATED'] }),
  },
  {
    name: 'mallory (signed in, no membership) lists `projects` and `jobs`',
    before: 'every project and job was listed',
    run: async (lab) => {
      const answer = await gql(lab, '{ projects { id } jobs { id } }', {}, lab.tokens.mallory);
      const data = answer.json?.data;
      if (!data) return fromHttp(answer, { status: 200, codes: [] });
      const seen = data.projects.length + data.jobs.length;
      return { status: `HTTP ${answer.status}`, code: '-', message: `projects: ${data.projects.length}, jobs: ${data.jobs.length}`, succeeded: seen > 0, coded: true, expected: seen === 0 };
    },
  },
  {
    name: "mallory asks `job(id)` of alice's job, and of a random id",
    before: 'any job was readable by id',
    run: async (lab) => {
      const query = 'query($id: ID!) { job(id: $id) { id payload } }';
      const random = randomUUID();
      const theirs = await gql(lab, query, { id: lab.alice.jobId }, lab.tokens.mallory);
      const missing = await gql(lab, query, { id: random }, lab.tokens.mallory);
      const outcome = fromHttp(theirs, { status: 200, codes: ['NOT_FOUND'] });
      const same = sameAnswer(theirs, missing, [lab.alice.jobId, random]);
      return { ...outcome, message: clip(`${outcome.message} [same answer as a random id: ${same ? 'yes' : 'NO'}]`), expected: outcome.expected && same };
    },
  },
  {
    name: "mallory `cancelJob` of alice's running job",
    before: 'cancelled jobs of other projects',
    run: async (lab) => {
      const answer = await gql(lab, 'mutation($id: ID!) { cancelJob(id: $id) { id state } }', { id: lab.alice.jobId }, lab.tokens.mallory);
      const after = await gqlData(lab, 'query($id: ID!) { job(id: $id) { state cancelRequested } }', { id: lab.alice.jobId }, lab.tokens.alice);
      const outcome = fromHttp(answer, { status: 200, codes: ['NOT_FOUND'] });
      const untouched = !after.job.cancelRequested && after.job.state !== 'CANCELLED';
      return {
        ...outcome,
        message: clip(`${outcome.message} [alice's job after: ${after.job.state}, cancelRequested ${after.job.cancelRequested}]`),
        succeeded: outcome.succeeded || !untouched,
        expected: outcome.expected && untouched,
      };
    },
  },
  {
    name: "mallory GETs `/artifacts/<id>` of alice's 4 MB checkpoint (and of a random id)",
    before: '`/artifacts/<id>` served a 4 MB checkpoint',
    run: async (lab) => {
      const random = randomUUID();
      const theirs = await http(`${lab.url}/artifacts/${lab.alice.artifactId}`, { token: lab.tokens.mallory });
      const missing = await http(`${lab.url}/artifacts/${random}`, { token: lab.tokens.mallory });
      const outcome = fromHttp(theirs, { status: 404, codes: ['NOT_FOUND'] });
      const same = sameAnswer(theirs, missing, [lab.alice.artifactId, random]);
      const served = theirs.status === 200;
      return {
        ...outcome,
        message: clip(`${served ? `${theirs.text.length} bytes served` : outcome.message} [same answer as a random id: ${same ? 'yes' : 'NO'}]`),
        succeeded: served,
        expected: theirs.status === 404 && same && outcome.coded,
      };
    },
  },
  {
    name: '`/artifacts/<id>` without a token',
    before: 'served',
    run: async (lab) => fromHttp(await http(`${lab.url}/artifacts/${lab.alice.artifactId}`), { status: 401, codes: ['UNAUTHENTICATED'] }),
  },
  {
    name: "alice (owner, not admin) reads her checkpoint's `uri`",
    before: '`uri` fields exposed server paths',
    run: async (lab) => {
      const answer = await gql(lab, 'query($id: ID!) { artifact(id: $id) { uri downloadUrl bytes } }', { id: lab.alice.artifactId }, lab.tokens.alice);
      const artifact = answer.json?.data?.artifact;
      if (!artifact) return fromHttp(answer, { status: 200, codes: [] });
      return { status: `HTTP ${answer.status}`, code: '-', message: clip(JSON.stringify(artifact)), succeeded: artifact.uri !== null, coded: true, expected: artifact.uri === null };
    },
  },
  {
    name: '`executors { host pid }` without a token',
    before: '`executors` showed host and pid',
    run: async (lab) => fromHttp(await gql(lab, '{ executors { host pid } }'), { status: 401, codes: ['UNAUTHENTICATED'] }),
  },
  {
    name: 'WebSocket, Origin http://evil.example, no token: `createProject`',
    before: '`createProject` succeeded with Origin http://evil.example',
    run: async (lab) =>
      fromSocket(
        await socketSession(lab, { origin: 'http://evil.example', message: () => subscribeMessage('mutation { createProject(input: { name: "evil-anon" }) { id } }') }),
        (log) => log.upgradeStatus === 403,
      ),
  },
  {
    name: "WebSocket, Origin http://evil.example, alice's token: `createProject`",
    before: '`createProject` succeeded (no auth at all)',
    run: async (lab) =>
      fromSocket(
        await socketSession(lab, {
          origin: 'http://evil.example',
          token: lab.tokens.alice,
          message: () => subscribeMessage('mutation { createProject(input: { name: "evil-token" }) { id } }'),
        }),
        (log) => log.upgradeStatus === 403,
      ),
  },
  {
    name: 'WebSocket, no Origin (a script), no token: `createProject` (control)',
    before: 'accepted',
    run: async (lab) =>
      fromSocket(
        await socketSession(lab, { message: () => subscribeMessage('mutation { createProject(input: { name: "evil-script" }) { id } }') }),
        (log) => log.closeCode === 4403 && !log.acked,
      ),
  },
  {
    name: `20 cycles supernets → trajectories → candidates → trajectory → supernet (${(NESTED.length / 1024).toFixed(1)} KB)`,
    before: 'no answer in 300 s, server stopped answering, RSS past 3 GB',
    run: async (lab) => fromHttp(await gql(lab, NESTED, {}, lab.tokens.alice), { status: 400, codes: ['QUERY_TOO_DEEP'] }),
  },
  {
    name: `1,000 aliases of \`profile(architecture: "resnet-50") { perLayer { name } }\` (${(ALIASES_1000.length / 1024).toFixed(0)} KB)`,
    before: 'server stalled 5.4 s',
    run: async (lab) => fromHttp(await gql(lab, ALIASES_1000, {}, lab.tokens.alice), { status: 400, codes: REFUSED_BY_LIMITS }),
  },
  {
    name: `3,000 aliases of the same (${(ALIASES_3000.length / 1024).toFixed(0)} KB)`,
    before: 'server stalled 11 s, 12 MB reply',
    run: async (lab) => fromHttp(await gql(lab, ALIASES_3000, {}, lab.tokens.alice), { status: 400, codes: REFUSED_BY_LIMITS }),
  },
  {
    name: `a ${(TYPENAMES.length / 1e6).toFixed(1)} MB query of \`__typename\` over HTTP`,
    before: 'server stalled 23 s',
    run: async (lab) => fromHttp(await gql(lab, TYPENAMES, {}, lab.tokens.alice), { status: 413, codes: ['BAD_REQUEST'] }),
  },
  {
    name: 'a 20 MB `subscribe` message over WebSocket (alice\'s token)',
    before: 'bypassed the HTTP limit: 8 s stall, +1.2 GB',
    run: async (lab) =>
      fromSocket(
        await socketSession(lab, { token: lab.tokens.alice, message: () => subscribeMessage(typenameQuery(20_000_000)) }),
        (log) => log.acked && log.closeCode === 1009,
      ),
  },
  {
    name: '`registerDataset` of /root/.ssh, then of /nonexistent',
    before: 'answered differently (told which directories exist)',
    run: async (lab) => {
      const ssh = await registerPath(lab, 'IDX', '/root/.ssh');
      const none = await registerPath(lab, 'IDX', '/nonexistent');
      const outcome = refusedInput(ssh);
      const same = firstError(ssh)?.message === firstError(none)?.message && ssh.status === none.status;
      return { ...outcome, message: clip(`[same message for both: ${same ? 'yes' : 'NO'}] ${outcome.message}`), expected: outcome.expected && same };
    },
  },
  {
    name: `a FIFO named ${IDX.trainImages} under datasets/fifo/`,
    before: 'hung the whole server',
    run: async (lab) => refusedInput(await registerPath(lab, 'IDX', lab.fixtures.fifo)),
  },
  {
    name: `a symlink to /dev/zero named ${IDX.trainImages} under datasets/zero/`,
    before: 'hung the server over 70 s at 10 GB',
    run: async (lab) => refusedInput(await registerPath(lab, 'IDX', lab.fixtures.zero)),
  },
  {
    name: `a gzip bomb under datasets/bomb/: header of ${(BOMB_IMAGES / 1e6).toFixed(2)}M 28×28 images (1.07 GB), then 2.48 GB of zeros, gzipped`,
    before: 'stalled 19 s, accepted as 1.37M images',
    run: async (lab) => {
      const outcome = refusedInput(await registerPath(lab, 'IDX', lab.fixtures.bomb));
      return { ...outcome, message: clip(`[${(lab.fixtures.bombBytes / 1e6).toFixed(2)} MB file] ${outcome.message}`) };
    },
  },
  {
    name: `a real ${PNG_SIDE}×${PNG_SIDE} gray PNG in an image-folder tree under datasets/png/`,
    before: 'stalled 26 s, accepted with `inputHeight: 20000`',
    run: async (lab) => {
      const outcome = refusedInput(await registerPath(lab, 'IMAGE_FOLDER', lab.fixtures.png));
      return { ...outcome, message: clip(`[${(lab.fixtures.pngBytes / 1e3).toFixed(0)} KB file] ${outcome.message}`) };
    },
  },
  {
    name: 'malformed JSON body to /graphql (with a token)',
    before: 'an HTML page with a stack trace and install paths',
    run: async (lab) =>
      fromHttp(
        await http(`${lab.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ projects { id } }",', token: lab.tokens.alice }),
        { status: 400, codes: ['BAD_REQUEST'] },
      ),
  },
  {
    name: 'a NUL character in a project name',
    before: 'INTERNAL_SERVER_ERROR with raw SQL',
    run: async (lab) => refusedInput(await gql(lab, 'mutation($n: String!) { createProject(input: { name: $n }) { id } }', { n: 'nul\u0000name' }, lab.tokens.alice)),
  },
  {
    name: '10 racing `createProject` of one name (SQLite)',
    before: 'PostgreSQL: 5 INTERNAL_SERVER_ERROR ("duplicate key") instead of CONFLICT',
    run: async (lab) => {
      const name = `race-${randomUUID().slice(0, 8)}`;
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => gql(lab, 'mutation($n: String!) { createProject(input: { name: $n }) { id } }', { n: name }, lab.tokens.alice)),
      );
      const tally = new Map<string, number>();
      for (const answer of answers) {
        const key = answer.json?.data?.createProject ? 'created' : `${answer.status} ${firstError(answer)?.code ?? '(uncoded)'}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
      const created = tally.get('created') ?? 0;
      const conflicts = tally.get('200 CONFLICT') ?? 0;
      const example = answers.map(firstError).find((e) => e !== null);
      return {
        status: [...new Set(answers.map((a) => `HTTP ${a.status}`))].join(', '),
        code: [...tally].map(([key, n]) => `${n}× ${key}`).join(', '),
        message: clip(example?.message ?? ''),
        succeeded: created > 1,
        coded: answers.every((a) => a.json?.data?.createProject || firstError(a)),
        expected: created === 1 && conflicts === 9,
      };
    },
  },
  {
    name: 'synthetic dataset with `numClasses: 257`',
    before: 'accepted (labels are bytes)',
    run: async (lab) =>
      refusedInput(
        await gql(
          lab,
          'mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "s257", format: SYNTHETIC, synthetic: { numClasses: 257 } }) { id numClasses } }',
          { p: lab.alice.projectId },
          lab.tokens.alice,
        ),
      ),
  },
  {
    name: 'a project with a 1,000,000-character description',
    before: 'accepted',
    run: async (lab) =>
      refusedInput(
        await gql(lab, 'mutation($d: String!) { createProject(input: { name: "long-description", description: $d }) { id } }', { d: 'x'.repeat(1_000_000) }, lab.tokens.alice),
      ),
  },
  {
    name: 'nothing half-written: datasets of alice\'s project after the attacks above',
    before: '(197 of 203 bad inputs left nothing behind)',
    run: async (lab) => {
      const answer = await gql(lab, 'query($p: ID!) { datasets(projectId: $p) { name } }', { p: lab.alice.projectId }, lab.tokens.alice);
      const names: string[] = answer.json?.data?.datasets?.map((d: { name: string }) => d.name) ?? [];
      const clean = names.length === 1 && names[0] === 'synthetic';
      return { status: `HTTP ${answer.status}`, code: '-', message: `datasets: ${names.join(', ') || '(none)'}`, succeeded: !clean, coded: true, expected: clean };
    },
  },
  {
    name: 'WebSocket `createProject` rows above: projects named evil-* (admin view)',
    before: 'created',
    run: async (lab) => {
      const { projects } = await gqlData(lab, '{ projects { name } }', {}, lab.tokens.admin);
      const evil = projects.map((p: { name: string }) => p.name).filter((n: string) => n.startsWith('evil-'));
      return { status: 'HTTP 200', code: '-', message: `evil-* projects: ${evil.join(', ') || 'none'}`, succeeded: evil.length > 0, coded: true, expected: evil.length === 0 };
    },
  },
  {
    name: '`SLIMLAB_HOST=0.0.0.0 SLIMLAB_AUTH=off node dist/server/main.js`',
    before: '`npm start` listened on 0.0.0.0 with no authentication of any kind',
    run: () => openStartWithoutAuth(),
  },
];

/**
 * A non-loopback host with auth off must be refused by the config check, before the database is
 * opened, let alone a port: anything it writes to stdout means it got that far, and it is killed
 * at once so it never listens on 0.0.0.0.
 */
async function openStartWithoutAuth(): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-open-'));
  const env = slimlabEnv({ SLIMLAB_HOST: '0.0.0.0', SLIMLAB_AUTH: 'off', SLIMLAB_PORT: String(await freePort()), SLIMLAB_DATA_DIR: dataDir, SLIMLAB_EMBEDDED_WORKER: 'false' });
  const child = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let started = false;
  let stderr = '';
  child.stdout!.on('data', () => {
    started = true;
    child.kill('SIGKILL');
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = await Promise.race([
    new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? String(signal)))),
    sleep(REQUEST_TIMEOUT_MS, 'timeout'),
  ]);
  if (exit === 'timeout') child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  const names = /SLIMLAB_HOST/.test(stderr) && /SLIMLAB_AUTH/.test(stderr);
  return {
    status: started ? `STARTED (killed at its first output), exit ${exit}` : `exit ${exit}`,
    code: started ? '(it started)' : 'config refused',
    message: clip(stderr),
    succeeded: started || exit === 0 || exit === 'timeout',
    coded: !started && names,
    expected: !started && exit !== 0 && names,
  };
}

// ---------------------------------------------------------------------------------------------
// Running, and the table
// ---------------------------------------------------------------------------------------------

async function measure(lab: Lab, attack: Attack): Promise<Row> {
  const rssBefore = rssMb(lab.pid);
  const watch = watchHealth(lab);
  const start = performance.now();
  let outcome: Outcome;
  try {
    outcome = await attack.run(lab);
  } catch (error) {
    // A request that timed out or a connection the server cut: no answer is itself the finding.
    const err = error as Error & { cause?: Error };
    outcome = { status: 'no answer', code: err.name, message: clip(`${err.message}${err.cause ? `: ${err.cause.message}` : ''}`), succeeded: true, coded: false, expected: false };
  }
  const ms = performance.now() - start;
  const healthDuring = await watch.stop();
  const healthAfter = await probeHealth(lab);
  return { attack, outcome, ms, healthDuring, healthAfter, rssMb: [rssBefore, rssMb(lab.pid)] };
}

function verdict(o: Outcome): string {
  if (o.succeeded) return '**STILL SUCCEEDS**';
  if (!o.coded) return '**held, answer not a coded JSON error**';
  if (!o.expected) return '**held, not the documented answer**';
  return 'held';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function renderTable(rows: readonly Row[]): string {
  const header = '| # | attack | before (issue #12) | now | time | verdict | /healthz during (max) · after | server RSS MB |';
  const rule = '|---|---|---|---|---|---|---|---|';
  const lines = rows.map((row, i) => {
    const o = row.outcome;
    const now = `${o.status} · ${o.code} · ${o.message}`;
    const during = `${seconds(row.healthDuring.maxMs)}${row.healthDuring.failures ? `, ${row.healthDuring.failures} failed` : ''}`;
    const after = row.healthAfter.ok ? `ok ${seconds(row.healthAfter.ms)}` : '**NO ANSWER IN 1 s**';
    const rss = `${row.rssMb[0].toFixed(0)} → ${row.rssMb[1].toFixed(0)}`;
    return `| ${i + 1} | ${cell(row.attack.name)} | ${cell(row.attack.before)} | ${cell(now)} | ${seconds(row.ms)} | ${verdict(o)} | ${during} · ${after} | ${rss} |`;
  });
  return [header, rule, ...lines].join('\n');
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function loads(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

/** The server's warnings, which would show an unexpected failure behind a refusal. */
function warningsOf(log: readonly string[]): string[] {
  return log.filter((line) => line.startsWith('err:')).map((line) => clip(line, 200));
}

function report(rows: readonly Row[], lab: Lab, context: { started: Date; loadBefore: string; rssStart: number }): string {
  const warnings = warningsOf(lab.serverLog);
  const flagged = rows.filter((row) => verdict(row.outcome) !== 'held');
  return [
    '# Attacks of issue #12, replayed',
    '',
    `Run ${context.started.toISOString()} on commit ${gitCommit()}, node ${process.version}; \`node dist/server/main.js\` with SLIMLAB_AUTH=on on ${HOST}, SQLite in a fresh data folder, no embedded worker.`,
    `Load average (1, 5, 15 min) before: ${context.loadBefore}; after: ${loads()}. Server RSS after start-up and set-up ${context.rssStart.toFixed(0)} MB, at the end ${rssMb(lab.pid).toFixed(0)} MB.`,
    `Requests time out after ${REQUEST_TIMEOUT_MS / 1000} s; "/healthz during" is the slowest of the probes sent every 100 ms while the attack ran (each times out after 1 s).`,
    '',
    renderTable(rows),
    '',
    flagged.length === 0 ? 'Every attack held with the documented answer.' : `Flagged: ${flagged.map((row) => `#${rows.indexOf(row) + 1} (${verdict(row.outcome).replace(/\*/g, '')})`).join('; ')}.`,
    '',
    `Server log: ${lab.serverLog.length} lines, ${warnings.length} on stderr${warnings.length ? ':' : '.'}`,
    ...warnings.slice(0, 4).map((line) => `- \`${line.replace(/`/g, "'")}\``),
    ...(warnings.length > 4 ? [`- … ${warnings.length - 4} more`] : []),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  for (const file of [SERVER_MAIN, CLI_MAIN]) {
    try {
      readFileSync(file);
    } catch {
      throw new Error(`${file} is missing: run \`npm run build\` first`);
    }
  }
  const started = new Date();
  const loadBefore = loads();
  process.stderr.write('writing hostile dataset files and starting the server...\n');
  const lab = await openLab();
  const rows: Row[] = [];
  try {
    const rssStart = rssMb(lab.pid);
    for (const attack of ATTACKS) {
      process.stderr.write(`- ${attack.name}... `);
      const row = await measure(lab, attack);
      process.stderr.write(`${row.outcome.status} ${row.outcome.code} (${seconds(row.ms)})\n`);
      rows.push(row);
    }
    const markdown = report(rows, lab, { started, loadBefore, rssStart });
    mkdirSync(join(RESULTS, '..'), { recursive: true });
    writeFileSync(RESULTS, markdown);
    process.stdout.write(markdown);
  } finally {
    lab.stopHeartbeats();
    await stopServer(lab.server);
    rmSync(lab.dataDir, { recursive: true, force: true });
  }
}

// Ctrl-C ends through process.exit, so the 'exit' handlers above stop the server.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
