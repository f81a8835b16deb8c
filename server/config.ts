import { isAbsolute, resolve } from 'node:path';
import { PROVIDER_CHOICES, type ProviderChoice } from '../executors/onnx/session';

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgresql'; readonly url: string };

export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  /** Users, tokens and project roles; off: every request is the local admin (loopback only). */
  readonly auth: boolean;
  readonly dataDir: string;
  readonly database: DatabaseTarget;
  /** Spawn and supervise a worker child process that runs the executor plugins (the embedded default). */
  readonly embeddedWorker: boolean;
  readonly workerConcurrency: number;
  /** The shared secret workers on other machines authenticate with; null admits only the embedded worker. */
  readonly workerToken: string | null;
  /** The largest artifact (checkpoint, ONNX file) a worker may upload. */
  readonly maxUploadMb: number;
  /** A job lease lasts this long unless its worker heartbeats; then the job is requeued. */
  readonly leaseSeconds: number;
  /** ONNX Runtime execution provider: 'auto' takes CUDA when it loads, else the CPU; 'cuda' falls back to 'cpu' with a note on every job. */
  readonly ortProvider: ProviderChoice;
  readonly ortThreads: number;
  /** Intra-op threads of latency measurements; part of the device a latency table belongs to. */
  readonly latencyThreads: number;
  /** Folders `registerDataset` may read from; a dataset's real path must lie under one of them. */
  readonly datasetRoots: readonly string[];
  /** The most bytes one dataset file may hold once decompressed, whatever its header claims. */
  readonly datasetMaxFileMb: number;
  /** The widest or tallest image a dataset may have; checked from the header, before decoding. */
  readonly datasetMaxImageSide: number;
  /** The largest dataset archive a client may upload, and the most it may unpack to. */
  readonly maxDatasetUploadMb: number;
  readonly limits: ApiLimits;
  /** Origins besides the server's own whose pages may open a WebSocket to the API, e.g. a dev server's. */
  readonly allowedOrigins: readonly string[];
}

/** What one GraphQL request may ask of the server; a request over any limit is refused before it runs. */
export interface ApiLimits {
  /** The largest JSON body of /graphql and the largest WebSocket message. */
  readonly maxRequestBytes: number;
  /** Checked before the query is parsed. */
  readonly maxQueryChars: number;
  readonly maxDepth: number;
  /** Estimated cost of an operation: see server/limits/cost.ts. */
  readonly maxComplexity: number;
  readonly maxAliases: number;
  readonly maxRootFields: number;
  /** Field selections of an operation, each fragment counted as often as it is spread. */
  readonly maxFields: number;
  /** Mutations a client may send per second, on average... */
  readonly mutationsPerSecond: number;
  /** ...and at once after a quiet spell. */
  readonly mutationBurst: number;
}

export class ConfigError extends Error {}

/** Reads the SLIMLAB_* environment; every variable has a default that runs on one machine. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const dataDir = resolve(env.SLIMLAB_DATA_DIR ?? './data');
  const host = env.SLIMLAB_HOST || '127.0.0.1';
  return {
    port: integer(env, 'SLIMLAB_PORT', 4000, 0, 65535),
    host,
    auth: authMode(env, host),
    dataDir,
    database: parseDatabaseUrl(env.SLIMLAB_DATABASE_URL, dataDir),
    embeddedWorker: (env.SLIMLAB_EMBEDDED_WORKER ?? 'true') !== 'false',
    workerConcurrency: integer(env, 'SLIMLAB_WORKER_CONCURRENCY', 1, 1, 64),
    workerToken: token(env, 'SLIMLAB_WORKER_TOKEN'),
    maxUploadMb: integer(env, 'SLIMLAB_MAX_UPLOAD_MB', 4096, 1, 1024 * 1024),
    leaseSeconds: integer(env, 'SLIMLAB_LEASE_SECONDS', 120, 2, 86400),
    ortProvider: oneOf(env, 'SLIMLAB_ORT_PROVIDER', PROVIDER_CHOICES, 'auto'),
    ortThreads: integer(env, 'SLIMLAB_ORT_THREADS', 2, 1, 256),
    latencyThreads: integer(env, 'SLIMLAB_LATENCY_THREADS', 1, 1, 256),
    datasetRoots: absolutePaths(env, 'SLIMLAB_DATASET_ROOTS', [resolve(dataDir, 'datasets'), '/usr/share/datasets']),
    datasetMaxFileMb: integer(env, 'SLIMLAB_DATASET_MAX_FILE_MB', 2048, 1, 1024 * 1024),
    datasetMaxImageSide: integer(env, 'SLIMLAB_DATASET_MAX_IMAGE_SIDE', 4096, 1, 65535),
    maxDatasetUploadMb: integer(env, 'SLIMLAB_MAX_DATASET_UPLOAD_MB', 2048, 1, 1024 * 1024),
    limits: loadLimits(env),
    allowedOrigins: origins(env, 'SLIMLAB_ALLOWED_ORIGINS'),
  };
}

/** The API's limits; with an empty environment, the defaults. */
export function loadLimits(env: NodeJS.ProcessEnv = process.env): ApiLimits {
  return {
    maxRequestBytes: integer(env, 'SLIMLAB_MAX_REQUEST_KB', 1024, 1, 1024 * 1024) * 1024,
    maxQueryChars: integer(env, 'SLIMLAB_MAX_QUERY_CHARS', 100_000, 100, 100_000_000),
    maxDepth: integer(env, 'SLIMLAB_MAX_QUERY_DEPTH', 15, 2, 1000),
    maxComplexity: integer(env, 'SLIMLAB_MAX_QUERY_COMPLEXITY', 20_000, 10, 1_000_000_000),
    maxAliases: integer(env, 'SLIMLAB_MAX_ALIASES', 30, 0, 100_000),
    maxRootFields: integer(env, 'SLIMLAB_MAX_ROOT_FIELDS', 30, 1, 100_000),
    maxFields: integer(env, 'SLIMLAB_MAX_FIELDS', 2_000, 10, 10_000_000),
    mutationsPerSecond: integer(env, 'SLIMLAB_MUTATIONS_PER_SECOND', 50, 1, 1_000_000),
    mutationBurst: integer(env, 'SLIMLAB_MUTATION_BURST', 200, 1, 1_000_000),
  };
}

export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseTarget {
  if (url === undefined || url === '') return { kind: 'sqlite', file: resolve(dataDir, 'slimlab.db') };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgresql', url };
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/.exec(url);
  if (sqlite) return { kind: 'sqlite', file: sqlite[1] === ':memory:' ? ':memory:' : resolve(sqlite[1]) };
  throw new ConfigError(
    `SLIMLAB_DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got "${url}")`,
  );
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** On when asked, and whenever the server listens beyond loopback: an open port must never be the local admin. */
function authMode(env: NodeJS.ProcessEnv, host: string): boolean {
  const raw = env.SLIMLAB_AUTH;
  if (raw !== undefined && raw !== '' && raw !== 'on' && raw !== 'off') throw new ConfigError(`SLIMLAB_AUTH must be on or off (got "${raw}")`);
  if (raw === 'off' && !isLoopback(host)) {
    throw new ConfigError(
      `SLIMLAB_HOST=${host} listens beyond this machine, which needs authentication: unset SLIMLAB_AUTH (or set it to on), or set SLIMLAB_HOST=127.0.0.1`,
    );
  }
  return raw === 'on' || !isLoopback(host);
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = allowed.find((a) => a === raw);
  if (value === undefined) throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return value;
}

function token(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  // The value itself is never echoed: it is a secret.
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) throw new ConfigError(`${name} must be 16 to 256 printable characters without spaces`);
  return raw;
}

/** A colon-separated list, as PATH is written; relative entries are refused so the rule does not depend on the working directory. */
function origins(env: NodeJS.ProcessEnv, name: string): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return [];
  return raw.split(',').map((value) => {
    const origin = value.trim();
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = null;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(`${name} must be comma-separated origins like https://host:port, without a path (got "${origin}")`);
    }
    return origin;
  });
}

function absolutePaths(env: NodeJS.ProcessEnv, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const paths = raw.split(':').filter((path) => path !== '');
  const relative = paths.find((path) => !isAbsolute(path));
  if (paths.length === 0 || relative !== undefined) {
    throw new ConfigError(`${name} must be colon-separated absolute paths (got "${relative ?? raw}")`);
  }
  return paths.map((path) => resolve(path));
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}
