import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFilesError, kindOf } from './dataset-files';

/**
 * Opens `relative` under `base` for reading only if it is a regular file. A listing's lstat can be
 * outrun by a rename, so the check is repeated on the open handle: O_NOFOLLOW refuses a link put in
 * its place, and O_NONBLOCK keeps opening a FIFO from waiting for a writer.
 */
export async function openRegular(base: string, relative: string): Promise<FileHandle> {
  const handle = await open(join(base, relative), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (error: NodeJS.ErrnoException) => {
      // Node's message names the absolute path; only the code is passed on.
      throw new DatasetFilesError(error.code === 'ELOOP' ? `${relative} is a symbolic link` : `${relative} cannot be opened (${error.code ?? 'error'})`);
    },
  );
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new DatasetFilesError(`${relative} is ${kindOf(stats)}, not a regular file`);
  }
  return handle;
}
