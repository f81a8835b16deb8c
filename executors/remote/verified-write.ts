import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProtocolError } from '../protocol-error';
import { DigestMeter } from './digest';

export interface ExpectedContent {
  readonly sha256: string;
  /** Reading stops on the chunk that passes it. */
  readonly maxBytes: number;
}

/**
 * Streams `source` into `partial` while hashing it, then renames it to `target` only if its sha256
 * is the expected one, so a content address never names a truncated or wrong file. On failure the
 * partial file is removed and `source` is left paused, not destroyed: an HTTP request's source still
 * has its response to send. `partial` must be on `target`'s file system for the rename to be atomic.
 */
export async function writeVerified(
  source: Readable,
  partial: string,
  target: string,
  expected: ExpectedContent,
  what: string,
): Promise<{ bytes: number }> {
  const meter = new DigestMeter(expected.maxBytes, what);
  const written = pipeline(meter, createWriteStream(partial, { flags: 'wx' }));
  // pipe() does not forward a source's failure (a dropped connection), which would leave us waiting.
  const stopWatching = finished(source, { writable: false }, (error) => {
    if (error) meter.destroy(error);
  });
  source.pipe(meter);
  try {
    await written;
    const sha256 = meter.digest();
    if (sha256 !== expected.sha256) {
      throw new ProtocolError('DIGEST_MISMATCH', `${what}: the bytes received hash to ${sha256}, expected ${expected.sha256}`);
    }
    await rename(partial, target);
    return { bytes: meter.bytes };
  } catch (error) {
    source.unpipe(meter);
    source.pause();
    await rm(partial, { force: true });
    throw error;
  } finally {
    stopWatching();
  }
}

/**
 * A fresh temp file name under `<workDir>/tmp`: on the work dir's file system, so renaming it into
 * the caches is atomic, and outside the dataset folders, so a crash leaves nothing a loader reads.
 */
export async function partialFileIn(workDir: string): Promise<string> {
  const tmp = join(workDir, 'tmp');
  await mkdir(tmp, { recursive: true });
  return join(tmp, `${randomUUID()}.partial`);
}
