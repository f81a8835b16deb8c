import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProtocolError } from '../protocol-error';
import { DigestMeter, hashFile, isSha256 } from './digest';
import { partialFileIn, writeVerified } from './verified-write';

export interface LocalBlob {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** Opens the bytes of a blob, e.g. from the server's GET /blobs/:sha256. */
export type BlobSource = (sha256: string) => Promise<Readable>;

/**
 * Content-addressed files in the worker's work dir (`<workDir>/blobs/<sha256>`): artifacts on their
 * way up, so a retried upload re-reads the disk, and blobs downloaded for jobs. A file is only ever
 * renamed into place after its digest was checked.
 */
export class BlobCache {
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(private readonly workDir: string) {}

  pathOf(sha256: string): string {
    if (!isSha256(sha256)) throw new ProtocolError('BAD_REQUEST', `${JSON.stringify(sha256)} is not a sha256 in 64 lowercase hex digits`);
    return join(this.workDir, 'blobs', sha256);
  }

  /** Stores bytes, or a copy of a file, under their digest. */
  async put(data: Buffer | string): Promise<LocalBlob> {
    await mkdir(join(this.workDir, 'blobs'), { recursive: true });
    const partial = await partialFileIn(this.workDir);
    try {
      const { sha256, bytes } = typeof data === 'string' ? await copyHashing(data, partial) : await writeHashing(data, partial);
      const path = this.pathOf(sha256);
      await rename(partial, path);
      return { path, sha256, bytes };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /**
   * The path of a verified local copy of the blob, downloading it when it is missing or its bytes no
   * longer match (a damaged or tampered cache file). Concurrent calls for one blob share a download.
   */
  get(sha256: string, source: BlobSource): Promise<string> {
    const path = this.pathOf(sha256);
    let pending = this.downloads.get(sha256);
    if (pending === undefined) {
      pending = this.fetchOnce(sha256, path, source).finally(() => this.downloads.delete(sha256));
      this.downloads.set(sha256, pending);
    }
    return pending;
  }

  private async fetchOnce(sha256: string, path: string, source: BlobSource): Promise<string> {
    if (await isVerified(path, sha256)) return path;
    await rm(path, { force: true });
    await mkdir(join(this.workDir, 'blobs'), { recursive: true });
    const partial = await partialFileIn(this.workDir);
    const stream = await source(sha256);
    try {
      await writeVerified(stream, partial, path, { sha256, maxBytes: Number.POSITIVE_INFINITY }, `blob ${sha256}`);
    } finally {
      stream.destroy();
    }
    return path;
  }
}

/** A regular file (not a link) holding exactly the bytes of `sha256`. */
export async function isVerified(path: string, sha256: string, bytes?: number): Promise<boolean> {
  const stats = await lstat(path).catch(() => null);
  if (stats === null || !stats.isFile() || (bytes !== undefined && stats.size !== bytes)) return false;
  return (await hashFile(path)).sha256 === sha256;
}

async function writeHashing(data: Buffer, partial: string): Promise<{ sha256: string; bytes: number }> {
  await writeFile(partial, data, { flag: 'wx' });
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

async function copyHashing(source: string, partial: string): Promise<{ sha256: string; bytes: number }> {
  const meter = new DigestMeter(Number.POSITIVE_INFINITY, source);
  await pipeline(createReadStream(source), meter, createWriteStream(partial, { flags: 'wx' }));
  return { sha256: meter.digest(), bytes: meter.bytes };
}
