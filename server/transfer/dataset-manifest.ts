import { basename } from 'node:path';
import { listDatasetFiles, type DatasetFile, type FileDatasetFormat } from '../../executors/data/dataset-files';
import { mapLimit } from '../../executors/map-limit';
import type { DatasetManifest } from '../../executors/protocol';
import { hashFile } from '../../executors/remote/digest';
import { manifestDigest } from '../../executors/remote/manifest';

/**
 * sha256 of files by (path, size, mtime, inode), so the manifest of an unchanged dataset is a walk
 * of lstat calls, not a rehash. The inode catches a file replaced by one with the same size and a
 * preserved mtime (`cp -p`, `rsync -a`). Least recently used entries go first past `maxEntries`.
 */
export class FileHashCache {
  private readonly entries = new Map<string, { key: string; sha256: string }>();

  constructor(private readonly maxEntries = 200_000) {}

  async sha256(file: DatasetFile): Promise<string> {
    const key = `${file.bytes}:${file.mtimeMs}:${file.ino}`;
    const hit = this.entries.get(file.absolute);
    this.entries.delete(file.absolute);
    if (hit?.key === key) {
      this.entries.set(file.absolute, hit);
      return hit.sha256;
    }
    const { sha256, bytes } = await hashFile(file.absolute);
    // A file written while it was hashed is not cached: the next manifest hashes it again.
    if (bytes === file.bytes) this.remember(file.absolute, { key, sha256 });
    return sha256;
  }

  private remember(path: string, entry: { key: string; sha256: string }): void {
    this.entries.set(path, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

const sharedCache = new FileHashCache();

/** Hashing runs a few files at a time: streamed reads on libuv's threads, hashing between chunks. */
const PARALLEL_HASHES = 4;

/**
 * The manifest of a dataset folder: every file its loaders read, with size and sha256, and the
 * digest over them. Throws DatasetFilesError (naming relative paths only) for a link, a non-regular
 * file or a missing file.
 */
export async function datasetManifest(
  format: FileDatasetFormat,
  rootPath: string,
  cache: FileHashCache = sharedCache,
): Promise<Omit<DatasetManifest, 'datasetId'>> {
  const listed = await listDatasetFiles(format, rootPath);
  const files = await mapLimit(listed, PARALLEL_HASHES, async (file) => ({
    path: file.path,
    bytes: file.bytes,
    sha256: await cache.sha256(file),
  }));
  return { format, name: basename(rootPath), digest: manifestDigest(files), files };
}
