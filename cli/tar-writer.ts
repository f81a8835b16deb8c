import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors';

/**
 * A folder as a POSIX tar archive, streamed: regular files and folders only, names longer than
 * the ustar field in pax headers. The archive depends on the files' names and bytes alone (times,
 * owners and modes are fixed), so two passes over an unchanged folder give the same bytes: one to
 * hash, one to send.
 */

const BLOCK = 512;
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
/** 11 octal digits: the largest size a ustar header states. */
const MAX_FILE_BYTES = 8 ** 11 - 1;

export interface TarEntry {
  /** Relative to the folder, with `/`. */
  readonly path: string;
  readonly absolute: string;
  readonly folder: boolean;
  readonly bytes: number;
}

/** Every folder and file under `root`, parents first, in code-unit order; a link or a device is refused. */
export async function listFolder(root: string, below = ''): Promise<TarEntry[]> {
  const names = (await readdir(join(root, below))).sort();
  const entries: TarEntry[] = [];
  for (const name of names) {
    const path = below ? `${below}/${name}` : name;
    const absolute = join(root, path);
    const stats = await lstat(absolute);
    if (stats.isDirectory()) {
      entries.push({ path, absolute, folder: true, bytes: 0 }, ...(await listFolder(root, path)));
    } else if (stats.isFile()) {
      if (stats.size > MAX_FILE_BYTES) throw new CliError(`${absolute} holds ${stats.size} bytes; a tar header states at most ${MAX_FILE_BYTES}`);
      entries.push({ path, absolute, folder: false, bytes: stats.size });
    } else {
      throw new CliError(`${absolute} is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; a dataset upload holds regular files and folders only`);
    }
  }
  return entries;
}

/** The size of the archive `tarEntries(entries)` streams. */
export function archiveBytes(entries: readonly TarEntry[]): number {
  return entries.reduce((sum, entry) => sum + headers(entry).reduce((n, block) => n + block.length, 0) + padded(entry.bytes), END_OF_ARCHIVE.length);
}

/** The archive of `entries`, chunk by chunk; fails if a file's size changed since it was listed. */
export async function* tarEntries(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield* headers(entry);
    if (entry.folder) continue;
    let read = 0;
    if (entry.bytes > 0) {
      for await (const chunk of createReadStream(entry.absolute, { start: 0, end: entry.bytes - 1 }) as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield chunk;
      }
    }
    if (read !== entry.bytes) throw new CliError(`${entry.absolute} changed while it was read (${read} of ${entry.bytes} bytes)`);
    if (padded(entry.bytes) > entry.bytes) yield Buffer.alloc(padded(entry.bytes) - entry.bytes);
  }
  yield END_OF_ARCHIVE;
}

/** The header blocks of an entry: a pax header first when its name does not fit in 100 bytes. */
function headers(entry: TarEntry): Buffer[] {
  const name = entry.folder ? `${entry.path}/` : entry.path;
  if (Buffer.byteLength(name) <= 100) return [tarHeader(name, entry.folder ? '5' : '0', entry.bytes)];
  const record = paxRecord('path', name);
  return [tarHeader('././@PaxHeader', 'x', record.length), record, Buffer.alloc(padded(record.length) - record.length), tarHeader(name.slice(0, 100), entry.folder ? '5' : '0', entry.bytes)];
}

/**
 * One ustar header block. `name` must fit in 100 bytes (longer names go in a pax header); `type`
 * is the tar type flag: '0' file, '5' folder, 'x' pax header, and others (tests write links).
 */
export function tarHeader(name: string, type: string, size: number, linkName = ''): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(type === '5' ? '0000755\0' : '0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(type, 156, 'latin1');
  block.write(linkName, 157, 100, 'utf8');
  block.write('ustar\x0000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** `<length> <key>=<value>\n`, where the length counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let length = bytes + String(bytes).length;
  // Adding the digits can add a digit (98 bytes + 2 digits = 100, which has 3).
  if (String(length).length !== String(bytes).length) length = bytes + String(length).length;
  return Buffer.from(`${length}${body}`);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}
