import type { Stats } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { mapLimit } from '../map-limit';
import { byCodeUnits, relativePathProblem } from '../remote/manifest';
import { CIFAR_SUBFOLDERS, cifarLayout, type CifarLayout } from './cifar';
import { IDX_FILES } from './idx';
import { IMAGE_EXTENSIONS } from './image-folder';

/** The formats whose data lives in files; SYNTHETIC is generated where it is used. */
export type FileDatasetFormat = 'IDX' | 'IMAGE_FOLDER' | 'CIFAR';

/** What registration learns from a dataset folder, whatever its format; some formats also name their classes. */
export interface FolderShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly trainSize: number;
  readonly testSize: number;
  readonly classNames?: readonly string[] | null;
}

export interface DatasetFile {
  /** Relative to the dataset folder, with `/`. */
  readonly path: string;
  readonly absolute: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * A dataset that cannot be listed. Its message names files only relative to the dataset folder, so
 * the server can pass it on without revealing where the dataset lives.
 */
export class DatasetFilesError extends Error {
  override name = 'DatasetFilesError';
}

/** How many file-system calls one listing keeps in flight. */
const PARALLEL_STATS = 16;

/**
 * Every file the loaders of `format` read from `root`, sorted by path: registration makes the
 * sample manifest from these same choices, so a manifest covers exactly what training sees.
 * Only regular files: a symbolic link (or anything else) the loaders would meet is refused, so
 * nothing outside the folder can be reached through it.
 */
export async function listDatasetFiles(format: FileDatasetFormat, root: string): Promise<DatasetFile[]> {
  // The folder itself may be reached through a link (a mount, a shared data drive); nothing in it may.
  const base = await realpath(root).catch(() => {
    throw new DatasetFilesError('the dataset folder is missing or unreadable');
  });
  const paths = await PATHS[format](base);
  const files = await mapLimit(paths, PARALLEL_STATS, (path) => regularFile(base, path));
  return files.sort((a, b) => byCodeUnits(a.path, b.path));
}

const PATHS: Readonly<Record<FileDatasetFormat, (base: string) => Promise<string[]>>> = {
  IDX: idxPaths,
  IMAGE_FOLDER: imageFolderPaths,
  CIFAR: async (base) => {
    const { files } = await cifarLayoutOf(base);
    return [...files.train, ...files.test];
  },
};

async function idxPaths(base: string): Promise<string[]> {
  const names = Object.values(IDX_FILES).flatMap((split) => [split.images, split.labels]);
  const found = await mapLimit(names, PARALLEL_STATS, async (name) => {
    // The loader takes `name` when it exists and `name.gz` otherwise.
    for (const candidate of [name, `${name}.gz`]) {
      if (await exists(join(base, candidate))) return candidate;
    }
    return null;
  });
  // Every missing file is named, in the loader's order: the lookups race, and the first to fail
  // would otherwise decide the message.
  const missing = names.filter((_, i) => found[i] === null);
  if (missing.length > 0) throw new DatasetFilesError(`missing ${missing.join(', ')} (each may be gzipped, ending in .gz)`);
  return found.filter((path): path is string => path !== null);
}

async function imageFolderPaths(base: string): Promise<string[]> {
  const classes = await subfolders(base, 'train');
  // The loader stats every entry of test/ as well, so a link there is refused too.
  await subfolders(base, 'test');
  const perClass = await mapLimit(
    ['train', 'test'].flatMap((split) => classes.map((name) => `${split}/${name}`)),
    PARALLEL_STATS,
    async (folder) => {
      const images = (await entries(base, folder)).filter((file) => IMAGE_EXTENSIONS.has(extname(file).toLowerCase()));
      return images.map((file) => `${folder}/${file}`);
    },
  );
  return perClass.flat();
}

/**
 * The CIFAR layout of the folder `base`, as registration finds it; a standard subfolder that is
 * a link is refused, since the loader would read through it.
 */
export async function cifarLayoutOf(base: string): Promise<CifarLayout> {
  const top = await readdir(base);
  const listing = new Map([['', new Set(top)]]);
  for (const folder of CIFAR_SUBFOLDERS.filter((name) => top.includes(name))) {
    const stats = await lstat(join(base, folder));
    if (stats.isSymbolicLink() || stats.isDirectory()) listing.set(folder, new Set(await entries(base, folder)));
  }
  try {
    return cifarLayout(listing);
  } catch (error) {
    // cifarLayout only reasons about names, so its refusals name files relative to `base` already.
    throw new DatasetFilesError((error as Error).message);
  }
}

/** The folders in `folder` (relative to `base`), sorted; a link among its entries is refused. */
export async function subfolders(base: string, folder: string): Promise<string[]> {
  const names = await entries(base, folder);
  const kinds = await mapLimit(names, PARALLEL_STATS, async (name) => {
    const stats = await lstat(join(base, folder, name));
    if (stats.isSymbolicLink()) throw new DatasetFilesError(`${folder}/${name} is a symbolic link; only regular files and folders are shipped`);
    return stats.isDirectory();
  });
  return names.filter((_, i) => kinds[i]).sort(byCodeUnits);
}

async function entries(base: string, folder: string): Promise<string[]> {
  const stats = await lstat(join(base, folder)).catch(() => null);
  if (stats === null || !stats.isDirectory()) {
    throw new DatasetFilesError(`${folder} is ${stats?.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; the loader reads it`);
  }
  return readdir(join(base, folder));
}

async function regularFile(base: string, path: string): Promise<DatasetFile> {
  const problem = relativePathProblem(path);
  if (problem !== null) throw new DatasetFilesError(`file name ${JSON.stringify(path)} ${problem}; rename it to ship the dataset`);
  const absolute = join(base, path);
  const stats = await lstat(absolute);
  if (stats.isSymbolicLink()) throw new DatasetFilesError(`${path} is a symbolic link; only regular files are shipped`);
  if (!stats.isFile()) throw new DatasetFilesError(`${path} is ${kindOf(stats)}, not a regular file`);
  return { path, absolute, bytes: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
}

/** What a file that is not regular is, in words, so a refusal says why. */
export function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a folder';
  return 'of an unknown kind';
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}
