import { readFile } from 'node:fs/promises';
import type { WorkerTransfer } from '../worker';
import { uploadArtifact, serverBlobs } from './artifacts';
import { BlobCache } from './blob-cache';
import { DatasetCache } from './dataset-cache';
import type { RemoteEndpoint } from './http';
import type { ServerClient } from './server-client';

/** Reads a multi-hundred-MB checkpoint on a slow link may take long; only a stall fails it. */
const TRANSFER_TIMEOUT_MS = 60_000;

/**
 * Moves a worker's bytes over the worker protocol, with the same retries and fail-over as its
 * other requests: artifacts are written to the content-addressed cache under the work dir and
 * streamed up from there (so a retry re-reads the file, not memory); blobs and datasets are
 * downloaded by digest, verified, and cached for the next job.
 */
export function createWorkerTransfer(client: ServerClient, workDir: string, datasetRoot: string | null): WorkerTransfer {
  const blobs = new BlobCache(workDir);
  const datasets = new DatasetCache(workDir);
  const endpoint = (): RemoteEndpoint => ({ baseUrl: client.serverUrl, headers: client.authorization, idleTimeoutMs: TRANSFER_TIMEOUT_MS });
  return {
    upload(job, kind, name, data) {
      return client.withRetry({ while: () => !job.isLost, timeoutMs: TRANSFER_TIMEOUT_MS }, () =>
        uploadArtifact(endpoint(), blobs, { jobId: job.jobId, attempt: job.attempt, token: job.token }, kind, name, data),
      );
    },
    async read(ref) {
      const path = await client.withRetry({ while: () => true, timeoutMs: TRANSFER_TIMEOUT_MS }, () => blobs.get(ref.sha256, serverBlobs(endpoint())));
      return readFile(path);
    },
    dataset(spec) {
      return client.withRetry({ while: () => true, timeoutMs: TRANSFER_TIMEOUT_MS }, () => datasets.prepare(spec.id, endpoint(), datasetRoot ?? undefined));
    },
  };
}
