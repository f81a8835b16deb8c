import { createReadStream } from 'node:fs';
import type { ArtifactRef } from '../contract';
import { LEASE_HEADER, SHA256_HEADER, type Lease, type UploadResponse } from '../protocol';
import { ProtocolError } from '../protocol-error';
import type { BlobCache, BlobSource } from './blob-cache';
import { download, requestJson, type RemoteEndpoint } from './http';

/**
 * Uploads an artifact for a job under its lease. The bytes go into the worker's blob cache first and
 * are streamed from that file, so a retry (the caller's) re-reads the disk instead of holding the
 * artifact in memory, and the server checks them against the digest computed here.
 */
export async function uploadArtifact(
  endpoint: RemoteEndpoint,
  cache: BlobCache,
  lease: Pick<Lease, 'jobId' | 'attempt' | 'token'>,
  kind: string,
  name: string,
  data: Buffer | string,
): Promise<ArtifactRef> {
  const blob = await cache.put(data);
  const query = new URLSearchParams({ kind, name });
  const body = createReadStream(blob.path);
  let ref: UploadResponse;
  try {
    ref = await requestJson<UploadResponse>(endpoint, 'PUT', `/jobs/${encodeURIComponent(lease.jobId)}/artifacts?${query}`, {
      headers: {
        'content-type': 'application/octet-stream',
        // Lets the server refuse an upload over its limit before a byte of it is sent.
        'content-length': String(blob.bytes),
        [LEASE_HEADER]: `${lease.attempt}:${lease.token}`,
        [SHA256_HEADER]: blob.sha256,
      },
      body,
    });
  } finally {
    // A refused upload leaves its body unread; the file must not stay open.
    body.destroy();
  }
  if (ref.sha256 !== blob.sha256 || ref.bytes !== blob.bytes) {
    throw new ProtocolError('DIGEST_MISMATCH', `artifact ${name}: the server recorded ${ref.bytes} bytes with sha256 ${ref.sha256}, ${blob.bytes} bytes with ${blob.sha256} were sent`);
  }
  return ref;
}

/** Blobs from the server's GET /blobs/:sha256, for BlobCache.get. */
export function serverBlobs(endpoint: RemoteEndpoint): BlobSource {
  return (sha256) => download(endpoint, `/blobs/${sha256}`);
}
