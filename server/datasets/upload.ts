import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GraphQLError } from 'graphql';
import { CIFAR_DATA_FILES, CIFAR_SUBFOLDERS } from '../../executors/data/cifar';
import { IDX_FILES } from '../../executors/data/idx';
import { DigestMeter } from '../../executors/remote/digest';
import { ProtocolError } from '../../executors/protocol-error';
import { DatasetFormat } from '../../schema/enums';
import type { FileFormat } from '../services/dataset-service';
import { ArchiveError, extractTar } from './tar-reader';

/** The header that carries the sha256 of the body, as the client computed it. */
export const CONTENT_SHA256_HEADER = 'x-content-sha256';

/** Codes an upload can be refused with, besides those the dataset service and `authorize` use. */
export type UploadErrorCode = 'BAD_USER_INPUT' | 'DIGEST_MISMATCH' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE';

/** A refusal in the API's error shape; the message starts with the field it names, as userError's do. */
export function uploadError(code: UploadErrorCode, field: string | null, message: string): GraphQLError {
  return new GraphQLError(field ? `${field}: ${message}` : message, { extensions: field ? { code, field } : { code } });
}

export interface ReceiveOptions {
  /** The body is a gzipped tar rather than a plain one. */
  readonly gzip: boolean;
  /** What the client says the body hashes to (64 lowercase hex digits). */
  readonly sha256: string;
  /** The most bytes the body may have, and the most its archive may unpack to. */
  readonly maxBytes: number;
  /** The most bytes one file of the archive may have. */
  readonly maxFileBytes: number;
}

/**
 * Uploaded dataset folders, each `<dir>/<uuid>`. An upload is extracted into a hidden partial
 * folder beside them and renamed into place only once every byte arrived and its digest matched,
 * so a folder that exists is always complete.
 */
export class DatasetUploads {
  constructor(readonly dir: string) {}

  /**
   * Streams a tar body to disk, never holding it whole, and returns the new dataset folder. Refuses
   * (and leaves nothing behind) a body over the limit as soon as it passes it, a bad archive, or
   * bytes whose sha256 is not the one stated. `body` is left paused on failure: an HTTP request
   * still has its response to send.
   */
  async receive(body: Readable, options: ReceiveOptions): Promise<string> {
    const id = randomUUID();
    const partial = join(this.dir, `.${id}.partial`);
    await mkdir(partial, { recursive: true, mode: 0o755 });
    try {
      await extractBody(body, partial, options);
      const folder = join(this.dir, id);
      await rename(await datasetTop(partial), folder);
      return folder;
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }

  /** Removes a folder `receive` made, once the dataset it held was refused. */
  async remove(folder: string): Promise<void> {
    await rm(folder, { recursive: true, force: true });
  }
}

async function extractBody(body: Readable, target: string, options: ReceiveOptions): Promise<void> {
  const meter = new DigestMeter(options.maxBytes, 'the upload');
  const limits = { maxArchiveBytes: options.maxBytes, maxFileBytes: options.maxFileBytes };
  const extract = (chunks: AsyncIterable<Buffer>) => extractTar(chunks, target, limits);
  const done = options.gzip ? pipeline(meter, createGunzip(), extract) : pipeline(meter, extract);
  // pipe() does not forward the request's failure (a client that hung up), which would leave us waiting.
  const stopWatching = finished(body, { writable: false }, (error) => {
    if (error) meter.destroy(error);
  });
  body.pipe(meter);
  try {
    await done;
  } catch (error) {
    body.unpipe(meter);
    body.pause();
    throw refusalOf(error, options.maxBytes);
  } finally {
    stopWatching();
  }
  const sha256 = meter.digest();
  if (sha256 !== options.sha256) {
    throw uploadError('DIGEST_MISMATCH', CONTENT_SHA256_HEADER, `the body received hashes to ${sha256}, not to the ${options.sha256} stated; it was changed or cut on the way`);
  }
}

/** The stream's failures that the client caused, as refusals; anything else passes unchanged. */
function refusalOf(error: unknown, maxBytes: number): unknown {
  if (error instanceof ArchiveError) return uploadError(error.tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT', 'body', error.message);
  if (error instanceof ProtocolError && error.code === 'TOO_LARGE') {
    return uploadError('PAYLOAD_TOO_LARGE', 'body', `the upload is larger than ${maxBytes} bytes (SLIMLAB_MAX_DATASET_UPLOAD_MB)`);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return uploadError('BAD_USER_INPUT', 'body', `the body is not valid gzip data (${code}); send a .tar.gz as application/gzip, a plain tar as application/x-tar`);
  }
  return error;
}

/**
 * The folder in `extracted` that holds the dataset: `extracted` itself, or the one folder it holds,
 * as `tar czf set.tar.gz set/` packs it (unless that folder is a split of an image folder).
 */
async function datasetTop(extracted: string): Promise<string> {
  const entries = await readdir(extracted, { withFileTypes: true });
  const only = entries.length === 1 ? entries[0]! : null;
  if (only && only.isDirectory() && only.name !== 'train' && only.name !== 'test') return join(extracted, only.name);
  return extracted;
}

/**
 * IDX when the folder has any of the MNIST-layout files, CIFAR when it has a CIFAR data file (at the
 * top or in the folder its archive unpacks to), IMAGE_FOLDER when it has `train/`; null otherwise.
 */
export async function detectFormat(folder: string): Promise<FileFormat | null> {
  const idxNames = Object.values(IDX_FILES).flatMap(({ images, labels }) => [images, labels]);
  for (const name of idxNames.flatMap((name) => [name, `${name}.gz`])) {
    if (await isKind(join(folder, name), 'file')) return DatasetFormat.IDX;
  }
  for (const name of ['', ...CIFAR_SUBFOLDERS].flatMap((subfolder) => CIFAR_DATA_FILES.map((file) => join(subfolder, file)))) {
    if (await isKind(join(folder, name), 'file')) return DatasetFormat.CIFAR;
  }
  return (await isKind(join(folder, 'train'), 'folder')) ? DatasetFormat.IMAGE_FOLDER : null;
}

async function isKind(path: string, kind: 'file' | 'folder'): Promise<boolean> {
  const stats = await lstat(path).catch(() => null);
  return stats !== null && (kind === 'file' ? stats.isFile() : stats.isDirectory());
}
