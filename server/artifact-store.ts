import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ProtocolError } from '../executors/protocol-error';
import { isSha256 } from '../executors/remote/digest';
import { writeVerified } from '../executors/remote/verified-write';

export interface StoredBlob {
  readonly uri: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A stored blob opened for streaming; the stream closes the file when it ends or is destroyed. */
export interface OpenBlob {
  readonly bytes: number;
  readonly stream: Readable;
}

/**
 * Content-addressed files under the data directory: the same bytes are stored once, and a uri
 * names its content, so a cache keyed by uri or sha256 can never serve stale data.
 */
export class BlobStore {
  constructor(private readonly root: string) {}

  /**
   * Stores a stream whose sha256 the sender stated, never holding it in memory. Fails with
   * DIGEST_MISMATCH or TOO_LARGE (reading stops at the limit) and then stores nothing; `source` is
   * left paused, for its owner to close.
   */
  async putStream(source: Readable, expectedSha256: string, maxBytes: number): Promise<StoredBlob> {
    if (!isSha256(expectedSha256)) throw new ProtocolError('BAD_REQUEST', 'the stated sha256 is not 64 lowercase hex digits');
    const path = await this.prepare(expectedSha256);
    const partial = `${path}.${randomUUID()}.partial`;
    const { bytes } = await writeVerified(source, partial, path, { sha256: expectedSha256, maxBytes }, 'the upload');
    return { uri: pathToFileURL(path).toString(), bytes, sha256: expectedSha256 };
  }

  /** Streams a stored blob; NOT_FOUND when it is not stored. */
  async openRead(sha256: string): Promise<OpenBlob> {
    // Checked before any file-system call: the digest becomes a path.
    if (!isSha256(sha256)) throw new ProtocolError('BAD_REQUEST', 'a blob is named by 64 lowercase hex digits');
    const handle = await open(this.pathOf(sha256), constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ELOOP') throw new ProtocolError('NOT_FOUND', `blob ${sha256} is not stored`);
      throw error;
    });
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new ProtocolError('NOT_FOUND', `blob ${sha256} is not stored`);
      return { bytes: stats.size, stream: handle.createReadStream() };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private pathOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  private async prepare(sha256: string): Promise<string> {
    await mkdir(join(this.root, sha256.slice(0, 2)), { recursive: true });
    return this.pathOf(sha256);
  }
}
