import { pipeline } from 'node:stream/promises';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { ArtifactRef, Logger } from '../../executors/contract';
import { LEASE_HEADER, SHA256_HEADER } from '../../executors/protocol';
import { asProtocolError, ProtocolError } from '../../executors/protocol-error';
import { isSha256 } from '../../executors/remote/digest';
import type { BlobStore, OpenBlob, StoredBlob } from '../artifact-store';
import { loggableError } from '../loggable-error';
import type { FileHashCache } from './dataset-manifest';
import { ShippedDatasets, type DatasetLookup } from './shipped-datasets';

export interface TransferDeps extends DatasetLookup {
  readonly blobs: BlobStore;
  /** The largest artifact a worker may upload. */
  readonly maxUploadBytes: number;
  /** Resolves when the lease may write to the job; throws a coded error (LEASE_LOST) otherwise. */
  authorizeUpload(jobId: string, attempt: number, token: string): Promise<void>;
  /** Records the stored bytes as an artifact of the job, checking the lease again. */
  registerArtifact(jobId: string, attempt: number, token: string, kind: string, name: string, blob: StoredBlob): Promise<ArtifactRef>;
  /** Where unexpected failures are told; their details never reach the worker. */
  readonly log?: Pick<Logger, 'warn'>;
  /** Defaults to one shared by the process. */
  readonly hashes?: FileHashCache;
}

/**
 * Byte transfer between the server and its workers, to mount under PROTOCOL_PREFIX after token
 * authentication: artifact uploads, blob downloads, and dataset manifests and files. Every failure
 * answers a ProtocolErrorBody.
 */
export function transferRoutes(deps: TransferDeps): Router {
  const router = Router();
  const datasets = new ShippedDatasets(deps, deps.hashes);

  router.put('/jobs/:id/artifacts', async (req, res) => {
    const kind = queryValue(req, 'kind');
    const name = queryValue(req, 'name');
    const lease = parseLease(req.get(LEASE_HEADER));
    const sha256 = req.get(SHA256_HEADER);
    if (!isSha256(sha256)) throw new ProtocolError('BAD_REQUEST', `${SHA256_HEADER} must be the body's sha256 in 64 lowercase hex digits`);
    const length = req.get('content-length');
    if (length !== undefined && Number(length) > deps.maxUploadBytes) {
      throw new ProtocolError('TOO_LARGE', `the upload has ${length} bytes; the limit is ${deps.maxUploadBytes}`);
    }
    // Before the body: a stale worker's upload is refused without reading it.
    await deps.authorizeUpload(req.params.id, lease.attempt, lease.token);
    const blob = await deps.blobs.putStream(req, sha256, deps.maxUploadBytes);
    res.json(await deps.registerArtifact(req.params.id, lease.attempt, lease.token, kind, name, blob));
  });

  router.get('/blobs/:sha256', async (req, res) => {
    await send(res, await deps.blobs.openRead(req.params.sha256));
  });

  router.get('/datasets/:id/manifest', async (req, res) => {
    res.json(await datasets.manifest(req.params.id));
  });

  router.get('/datasets/:id/files/*path', async (req, res) => {
    // Express hands the wildcard over as decoded segments; an encoded `/` stays inside one.
    const segments = (req.params as unknown as { path: string[] }).path;
    await send(res, await datasets.openFile(req.params.id, segments.join('/')));
  });

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent || req.socket.destroyed) {
      // Mid-stream the only honest signal left is a cut connection; a worker that hung up hears nothing.
      res.destroy();
      return;
    }
    const answer = asProtocolError(error) ?? fromExpress(error) ?? unexpected(error, deps.log);
    // An unread body would otherwise be drained to keep the connection; closing it stops the upload.
    if (!req.complete) res.set('connection', 'close');
    res.status(answer.status).set('content-type', 'application/json; charset=utf-8').json(answer.toBody());
  });
  return router;
}

function queryValue(req: Request, key: string): string {
  const value = req.query[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new ProtocolError('BAD_REQUEST', `query parameter ${key} must be given once, 1 to 200 characters`);
  }
  return value;
}

function parseLease(header: string | undefined): { attempt: number; token: string } {
  const separator = header?.indexOf(':') ?? -1;
  const attempt = Number(header?.slice(0, separator));
  const token = header?.slice(separator + 1) ?? '';
  if (separator < 1 || !Number.isSafeInteger(attempt) || attempt < 1 || token.length === 0) {
    throw new ProtocolError('BAD_REQUEST', `${LEASE_HEADER} must be "<attempt>:<token>"`);
  }
  return { attempt, token };
}

async function send(res: Response, blob: OpenBlob): Promise<void> {
  res.status(200).set({ 'content-type': 'application/octet-stream', 'content-length': String(blob.bytes) });
  await pipeline(blob.stream, res);
}

/** Express's own 4xx failures (a path segment that does not decode) carry a status. */
function fromExpress(error: unknown): ProtocolError | null {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? new ProtocolError('BAD_REQUEST', 'malformed request') : null;
}

function unexpected(error: unknown, log: Pick<Logger, 'warn'> | undefined): ProtocolError {
  log?.warn(`worker transfer failed: ${loggableError(error)}`);
  return new ProtocolError('INTERNAL', 'the server failed to handle the transfer; its log has the details');
}
