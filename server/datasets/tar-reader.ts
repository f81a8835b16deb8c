import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { relativePathProblem } from '../../executors/remote/manifest';

/**
 * A streaming reader of tar archives (POSIX ustar, with the pax and GNU long-name extensions that
 * GNU tar and bsdtar write) that extracts regular files and folders and nothing else. Nothing is
 * held in memory beyond one chunk and one header, so an archive of any size streams to disk.
 */

const BLOCK = 512;
/** A pax or GNU long-name header is metadata; one this large is not an honest archive. */
const MAX_META_BYTES = 1024 * 1024;

export interface TarLimits {
  /** The most bytes the archive may hold, counted as read (after any decompression). */
  readonly maxArchiveBytes: number;
  /** The most bytes one file may hold; refused from its header, before any of it is written. */
  readonly maxFileBytes: number;
}

/**
 * A refusal of the archive. Its message names entries by their path in the archive, never a server
 * path. `tooLarge` sets apart the refusals a bigger limit would have let through.
 */
export class ArchiveError extends Error {
  override name = 'ArchiveError';

  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/**
 * Writes the archive's folders and regular files under `target` (an empty folder this process made,
 * so no link can exist in it). Refuses absolute names, `..`, links, devices, FIFOs, a file over the
 * cap and an entry that clashes with an earlier one. Reads `chunks` to their end, past the
 * end-of-archive blocks, so a digest computed upstream covers every byte.
 */
export async function extractTar(chunks: AsyncIterable<Buffer>, target: string, limits: TarLimits): Promise<void> {
  const source = new ByteSource(chunks[Symbol.asyncIterator](), limits.maxArchiveBytes);
  // What pax or GNU headers said about the next entry.
  let pending: PaxFields = {};
  for (;;) {
    const block = await source.exactly(BLOCK, 'a header');
    if (block === null) throw new ArchiveError('the archive ends without its end-of-archive block; is it truncated, or not a tar archive?');
    if (block.every((byte) => byte === 0)) break;
    const header = parseHeader(block);
    switch (header.type) {
      case 'x':
        pending = { ...pending, ...paxRecords(await source.meta(header.size, 'a pax header')) };
        continue;
      case 'L':
        pending = { ...pending, path: cString(await source.meta(header.size, 'a GNU long name')) };
        continue;
      case 'g':
      case 'K':
        // Global pax defaults (timestamps, charset) change nothing we keep; a long link name belongs
        // to a link, which is refused when it comes.
        await source.meta(header.size, 'an extended header');
        continue;
    }
    const raw = pending.path ?? header.name;
    const size = pending.size ?? header.size;
    pending = {};
    if (header.type === '5') {
      const path = entryPath(raw, true);
      if (path !== null) await make(() => mkdir(join(target, path), { recursive: true, mode: 0o755 }), path);
      await source.skip(padded(size));
    } else if (header.type === '0' || header.type === '\0' || header.type === '7') {
      const path = entryPath(raw, false)!;
      if (size > limits.maxFileBytes) {
        throw new ArchiveError(`${path} holds ${size} bytes; a dataset file may hold at most ${limits.maxFileBytes} (SLIMLAB_DATASET_MAX_FILE_MB)`, true);
      }
      await writeFile(source, join(target, path), path, size);
      await source.skip(padded(size) - size);
    } else {
      throw new ArchiveError(`${JSON.stringify(raw)} is ${KIND_NAMES[header.type] ?? `a tar entry of type '${header.type}'`}; only regular files and folders are accepted`);
    }
  }
  await source.drain();
}

const KIND_NAMES: Readonly<Record<string, string>> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
};

interface Header {
  readonly name: string;
  readonly type: string;
  readonly size: number;
}

function parseHeader(block: Buffer): Header {
  const stated = octal(block.subarray(148, 156));
  if (stated === null || !checksums(block).includes(stated)) {
    throw new ArchiveError('the body is not a tar archive (a header\'s checksum does not match); send a .tar, or a .tar.gz as application/gzip');
  }
  const size = number(block.subarray(124, 136));
  const name = cString(block.subarray(0, 100));
  // POSIX ustar keeps a name's leading folders in `prefix`; GNU tar ("ustar  ") uses that space otherwise.
  const prefix = block.subarray(257, 263).toString('latin1') === 'ustar\0' ? cString(block.subarray(345, 500)) : '';
  return { name: prefix ? `${prefix}/${name}` : name, type: String.fromCharCode(block[156]!), size };
}

/** The checksum as unsigned and as signed bytes (old tars wrote the latter), the field read as spaces. */
function checksums(block: Buffer): number[] {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return [unsigned, signed];
}

function octal(field: Buffer): number | null {
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}

/** A size: octal, or GNU's base-256 (high bit set) for sizes octal cannot hold. */
function number(field: Buffer): number {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new ArchiveError('an entry states a size beyond any limit');
    return value;
  }
  const value = octal(field);
  if (value === null) throw new ArchiveError('an entry\'s size is not a number; is the archive damaged?');
  return value;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

interface PaxFields {
  path?: string;
  size?: number;
}

/** pax records are `<length> <key>=<value>\n`; only `path` and `size` (beyond what a header can state) matter here. */
function paxRecords(bytes: Buffer): PaxFields {
  const found: PaxFields = {};
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const length = Number(bytes.subarray(at, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(length) || length <= space - at || at + length > bytes.length) {
      throw new ArchiveError('a pax header is malformed');
    }
    const record = bytes.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'path') found.path = value;
    if (key === 'size') {
      found.size = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(found.size)) throw new ArchiveError(`a pax header states the size "${value}"`);
    }
    at += length;
  }
  return found;
}

/**
 * The entry's path relative to the dataset folder: `./` prefixes (as `tar -C dir .` writes) and a
 * folder's trailing `/` dropped; null for the archive's own top folder. Anything that could land
 * outside the folder is refused.
 */
function entryPath(raw: string, folder: boolean): string | null {
  let path = raw.replace(/^(\.\/)+/, '');
  if (folder) path = path.replace(/\/+$/, '');
  if (folder && (path === '' || path === '.')) return null;
  const problem = relativePathProblem(path);
  if (problem !== null) throw new ArchiveError(`entry ${JSON.stringify(raw)} ${problem}; entries must be relative paths inside the dataset folder`);
  return path;
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** Runs a file-system step, naming the entry when the tree it builds contradicts itself. */
async function make<T>(step: () => Promise<T>, path: string): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new ArchiveError(`${path} appears twice in the archive, or both as a file and as a folder`);
    }
    if (code === 'ENAMETOOLONG') throw new ArchiveError(`${path}: the name is too long for the server's file system`);
    throw error;
  }
}

async function writeFile(source: ByteSource, absolute: string, path: string, size: number): Promise<void> {
  await make(() => mkdir(dirname(absolute), { recursive: true, mode: 0o755 }), path);
  // `wx`: a second entry of the same name is refused rather than silently replacing the first.
  const handle = await make(() => open(absolute, 'wx', 0o644), path);
  try {
    let left = size;
    while (left > 0) {
      const chunk = await source.some(left);
      if (chunk === null) throw new ArchiveError(`${path} is cut short: the archive ends inside it`);
      for (let written = 0; written < chunk.length; ) written += (await handle.write(chunk, written)).bytesWritten;
      left -= chunk.length;
    }
  } finally {
    await handle.close();
  }
}

/** Bytes from an async iterator of chunks, in the sizes the reader asks for, counted against a limit. */
class ByteSource {
  private pending: Buffer = Buffer.alloc(0);
  private total = 0;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly maxBytes: number,
  ) {}

  /** At most `n` bytes, at least one; null at the end of the stream. */
  async some(n: number): Promise<Buffer | null> {
    while (this.pending.length === 0) {
      const next = await this.chunks.next();
      if (next.done) return null;
      this.total += next.value.length;
      if (this.total > this.maxBytes) throw new ArchiveError(`the archive unpacks to more than ${this.maxBytes} bytes (SLIMLAB_MAX_DATASET_UPLOAD_MB)`, true);
      this.pending = next.value;
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  /** Exactly `n` bytes; null if the stream ended before the first of them. */
  async exactly(n: number, what: string): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.some(n - got);
      if (part === null) {
        if (got === 0) return null;
        throw new ArchiveError(`the archive ends inside ${what}; is it truncated?`);
      }
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** An extended header's body, with its padding read past. */
  async meta(size: number, what: string): Promise<Buffer> {
    if (size > MAX_META_BYTES) throw new ArchiveError(`${what} of ${size} bytes is larger than ${MAX_META_BYTES}`);
    const body = size === 0 ? Buffer.alloc(0) : await this.exactly(size, what);
    if (body === null) throw new ArchiveError(`the archive ends inside ${what}; is it truncated?`);
    await this.skip(padded(size) - size);
    return body;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const part = await this.some(left);
      if (part === null) throw new ArchiveError('the archive ends inside an entry; is it truncated?');
      left -= part.length;
    }
  }

  /** Reads what follows the end-of-archive blocks (record padding), still counted against the limit. */
  async drain(): Promise<void> {
    while ((await this.some(Number.MAX_SAFE_INTEGER)) !== null);
  }
}
