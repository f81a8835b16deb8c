import { extname } from 'node:path';
import { mapLimit } from '../map-limit';
import { DatasetFilesError, listDatasetFiles, subfolders } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import { decodeImage, isGray, type Rgba } from './image-decode';
import { MAX_CLASSES } from './image-folder';
import { readImageHeader, type ImageHeader } from './image-header';
import type { FileSplit } from './manifest';
import { openRegular } from './regular-file';

/**
 * What registration learns from an image folder: classes and counts from the listing, every image's
 * size from its header (so a huge image is refused before it is decoded), and the channels from the
 * pixels of only those images whose encoding could hold colour, until one does. Images may differ
 * in size: the loader brings each to the network's input. Every error is a DatasetFilesError naming
 * files relative to the folder.
 */
export interface ImageFolderShape {
  readonly classNames: readonly string[];
  readonly trainSize: number;
  readonly testSize: number;
  readonly channels: number;
  /** The images' size when they all share one, else the smallest height and width found. */
  readonly height: number;
  readonly width: number;
  readonly sizesVary: boolean;
  readonly splits: Readonly<Record<'train' | 'test', FileSplit>>;
  /** Files whose header could not be read, left out (only with `skipCorrupt`). */
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
}

export interface ImageFolderOptions {
  /** Leave out, and list, images whose header cannot be read, instead of refusing the dataset. */
  readonly skipCorrupt: boolean;
  /** Called as headers are read: images done of all. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How many files are open at once while headers are read. */
const PARALLEL_READS = 16;
/** Progress is reported every this many headers. */
const PROGRESS_EVERY = 1000;

export async function describeImageFolder(base: string, limits: DatasetLimits, options: ImageFolderOptions = { skipCorrupt: false }): Promise<ImageFolderShape> {
  const classNames = await subfolders(base, 'train');
  if (classNames.length < 2) throw new DatasetFilesError(`train needs a folder per class, found ${classNames.length}`);
  if (classNames.length > MAX_CLASSES) throw new DatasetFilesError(`train has ${classNames.length} classes; at most ${MAX_CLASSES} are supported`);
  const unknown = (await subfolders(base, 'test')).filter((name) => !classNames.includes(name));
  if (unknown.length > 0) throw new DatasetFilesError(`test has classes ${unknown.join(', ')} that train does not`);
  const files = await listDatasetFiles('IMAGE_FOLDER', base);
  let done = 0;
  const headers = await mapLimit(files, PARALLEL_READS, async (file) => {
    const found = await header(base, file.path).catch((error: Error) => {
      if (!options.skipCorrupt || !(error instanceof DatasetFilesError)) throw error;
      return error;
    });
    // A huge image is refused even with skipCorrupt: it is not corrupt, and the limit is the server's.
    if (!(found instanceof Error)) checkSize(file.path, found, limits);
    if (++done % PROGRESS_EVERY === 0 || done === files.length) options.onProgress?.(done, files.length);
    return found;
  });
  const skipped = files.flatMap((file, i) => {
    const found = headers[i]!;
    return found instanceof Error ? [{ path: file.path, reason: found.message }] : [];
  });
  const kept = files.flatMap((file, i) => {
    const found = headers[i]!;
    return found instanceof Error ? [] : [{ ...file, header: found, label: classNames.indexOf(file.path.split('/')[1]!) }];
  });
  const split = (name: 'train' | 'test'): FileSplit => {
    const samples = kept.filter((file) => file.path.startsWith(`${name}/`));
    if (samples.length < 2) throw new DatasetFilesError(`${name} holds ${samples.length} readable PNG or JPEG images; at least 2 are needed`);
    return {
      kind: 'files',
      paths: samples.map((file) => file.path),
      labels: samples.map((file) => file.label),
      bytes: samples.map((file) => file.bytes),
      widths: samples.map((file) => file.header.width),
      heights: samples.map((file) => file.header.height),
    };
  };
  const splits = { train: split('train'), test: split('test') };
  const all = kept.map((file) => file.header);
  const height = Math.min(...all.map((h) => h.height));
  const width = Math.min(...all.map((h) => h.width));
  const sizesVary = all.some((h) => h.width !== all[0]!.width || h.height !== all[0]!.height);
  const channels = (await anyColour(base, kept.filter((file) => !file.header.grayOnly).map((file) => file.path), limits)) ? 3 : 1;
  return { classNames, trainSize: splits.train.paths.length, testSize: splits.test.paths.length, channels, height, width, sizesVary, splits, skipped };
}

async function header(base: string, path: string): Promise<ImageHeader> {
  const handle = await openRegular(base, path);
  try {
    return await readImageHeader(async (position, length) => {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, position);
      return buffer.subarray(0, bytesRead);
    }, isPng(path)).catch((error: Error) => {
      throw new DatasetFilesError(`${path}: ${error.message}`);
    });
  } finally {
    await handle.close();
  }
}

function checkSize(path: string, found: ImageHeader, limits: DatasetLimits): void {
  if (found.width < 1 || found.height < 1 || found.width > limits.maxImageSide || found.height > limits.maxImageSide) {
    throw new DatasetFilesError(`${path} is ${found.width}×${found.height}; each side must be between 1 and ${limits.maxImageSide}`);
  }
}

/**
 * Decodes `paths` one at a time until one is in colour; their headers already bounded their size.
 * An image that does not decode says nothing about colour: the loader meets it again, and fails or
 * skips it there.
 */
async function anyColour(base: string, paths: readonly string[], limits: DatasetLimits): Promise<boolean> {
  for (const path of paths) {
    const image = await decoded(base, path, limits).catch(() => null);
    if (image !== null && !isGray(image)) return true;
  }
  return false;
}

async function decoded(base: string, path: string, limits: DatasetLimits): Promise<Rgba> {
  const handle = await openRegular(base, path);
  try {
    const { size } = await handle.stat();
    if (size > limits.maxFileBytes) throw new DatasetFilesError(`${path} holds ${size} bytes; a file may hold at most ${limits.maxFileBytes}`);
    return decodeImage(await handle.readFile(), isPng(path));
  } finally {
    await handle.close();
  }
}

function isPng(path: string): boolean {
  return extname(path).toLowerCase() === '.png';
}
