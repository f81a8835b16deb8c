import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFilesError, kindOf } from './dataset-files';

/**
 * A listing's lstat can be outrun by a rename, so whether a file is regular is checked on the open
 * handle: O_NOFOLLOW refuses a link put in its place, and O_NONBLOCK keeps opening a FIFO from
 * waiting for a writer.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens `relative` under `base` for reading only if it is a regular file. */
export async function openRegular(base: string, relative: string): Promise<FileHandle> {
  const handle = await open(join(base, relative), OPEN_FLAGS).catch((error: NodeJS.ErrnoException) => {
    // Node's message names the absolute path; only the code is passed on.
    throw new DatasetFilesError(`${relative} ${openProblem(error)}`);
  });
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new DatasetFilesError(`${relative} is ${kindOf(stats)}, not a regular file`);
  }
  return handle;
}

/**
 * The same check, synchronous, for a decoder thread that reads one file at a time. Returns the file
 * descriptor; throws an Error whose message is the reason alone, so the caller names the file.
 */
export function openRegularSync(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw new Error(openProblem(error as NodeJS.ErrnoException));
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw new Error(`is ${kindOf(stats)}, not a regular file`);
  }
  return fd;
}

function openProblem(error: NodeJS.ErrnoException): string {
  return error.code === 'ELOOP' ? 'is a symbolic link' : `cannot be opened (${error.code ?? 'error'})`;
}
