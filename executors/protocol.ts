/**
 * The worker protocol: the executor plugin contract over HTTP. A worker needs only the server's URL
 * and a token; everything it does goes through these routes under `/worker/v1`, authenticated with
 * `Authorization: Bearer <token>`. Every write for a job carries that job's lease (id, attempt and
 * token); the server rejects a stale one with LEASE_LOST, so a worker presumed dead cannot write
 * after its job has moved on. Lease tokens travel in bodies and headers, never in URLs.
 */
import type { ArtifactRef, ExecutorCapabilities, ExecutorEvent, JobKind, JobSpec } from './contract';

export const PROTOCOL_PREFIX = '/worker/v1';

/** Headers of the streamed artifact upload, whose body is the file itself. */
export const LEASE_HEADER = 'x-slimlab-lease';
export const SHA256_HEADER = 'x-slimlab-sha256';

export interface ExecutorRegistration {
  readonly name: string;
  readonly kinds: readonly JobKind[];
  readonly capabilities: ExecutorCapabilities;
}

/** POST /register */
export interface RegisterRequest {
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly concurrency: number;
  /** In preference order: a claim offers work to the first executor that runs its kind. */
  readonly executors: readonly ExecutorRegistration[];
}

export interface RegisterResponse {
  readonly workerId: string;
  readonly leaseSeconds: number;
  /** How often to heartbeat: well inside the lease. */
  readonly heartbeatMs: number;
}

/** What a worker holds for a job it claimed; every write for the job carries it. */
export interface Lease {
  readonly jobId: string;
  readonly attempt: number;
  readonly token: string;
  /** ISO time; heartbeats move it on. */
  readonly expiresAt: string;
}

/** POST /claim: long-polls up to `waitMs` for a job one of the worker's executors runs. */
export interface ClaimRequest {
  readonly workerId: string;
  readonly waitMs: number;
}

export interface ClaimResponse {
  readonly job: { readonly spec: JobSpec; readonly lease: Lease; readonly executor: string } | null;
}

/** POST /heartbeat: marks the worker alive and extends the leases it still holds. */
export interface HeartbeatRequest {
  readonly workerId: string;
  readonly leases: readonly Pick<Lease, 'jobId' | 'token'>[];
}

/**
 * Per lease: `ok` (extended to `expiresAt`), `cancel` (a user cancelled it: stop and finish as
 * cancelled) or `lost` (the lease moved on: stop at once and write nothing more).
 */
export type LeaseStatus =
  | { readonly jobId: string; readonly status: 'ok' | 'cancel'; readonly expiresAt: string }
  | { readonly jobId: string; readonly status: 'lost' };

export interface HeartbeatResponse {
  readonly leases: readonly LeaseStatus[];
}

/** One incremental write for a job, applied in order. */
export type JobUpdate =
  | { readonly type: 'progress'; readonly fraction: number; readonly message?: string }
  | { readonly type: 'state'; readonly state: unknown }
  | { readonly type: 'event'; readonly event: ExecutorEvent };

/** POST /jobs/:id/updates */
export interface UpdatesRequest {
  readonly lease: Pick<Lease, 'attempt' | 'token'>;
  readonly updates: readonly JobUpdate[];
}

export type Outcome =
  | { readonly type: 'succeeded'; readonly result: unknown }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'cancelled' }
  /** The worker is stopping: the job goes back to the queue and resumes from its saved state. */
  | { readonly type: 'released' };

/** POST /jobs/:id/finish */
export interface FinishRequest {
  readonly lease: Pick<Lease, 'attempt' | 'token'>;
  readonly outcome: Outcome;
  /** Hands this worker its next job in the same answer, if one is waiting (one round trip per job, not two). */
  readonly claimNext?: { readonly workerId: string };
}

export interface FinishResponse {
  readonly next: ClaimResponse['job'];
}

/**
 * PUT /jobs/:id/artifacts?kind=K&name=N, the body streamed; headers LEASE_HEADER (`attempt:token`)
 * and SHA256_HEADER (the digest the worker computed). Answers the stored ArtifactRef.
 */
export type UploadResponse = ArtifactRef;

/** GET /blobs/:sha256 streams stored bytes; GET /datasets/:id/manifest and /datasets/:id/files/<path>. */
export interface DatasetManifest {
  readonly datasetId: string;
  /** Tells the worker which files its loaders read, so it can check a local copy the same way. */
  readonly format: 'IDX' | 'IMAGE_FOLDER' | 'CIFAR';
  /** The dataset folder's base name: where a worker looks for a local copy under its dataset root. */
  readonly name: string;
  /** sha256 over the sorted (path, bytes, sha256) lines of every file. */
  readonly digest: string;
  readonly files: readonly { readonly path: string; readonly bytes: number; readonly sha256: string }[];
}

/** Every protocol error: a stable code the worker acts on, and a message a person can read. */
export type ProtocolErrorCode =
  | 'UNAUTHENTICATED'
  | 'UNKNOWN_WORKER'
  | 'LEASE_LOST'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'DIGEST_MISMATCH'
  | 'TOO_LARGE'
  | 'INTERNAL';

export interface ProtocolErrorBody {
  readonly error: { readonly code: ProtocolErrorCode; readonly message: string };
}
