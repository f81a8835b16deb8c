import { extname } from 'node:path';
import { mapLimit } from '../map-limit';
import { DatasetFilesError, listDatasetFiles, subfolders } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import { decodeImage, isGray, type Rgba } from './image-decode';
import { MAX_CLASSES } from './image-folder';
import { readImageHeader, type ImageHeader } from './image-header';
import { openRegular } from './regular-file';

/**
 * What registration learns from an image folder: classes and counts from the listing, every image's
 * size from its header (so a huge image is refused before it is decoded), and the channels from the
 * pixels of only those images whose encoding could hold colour, until one does. Every error is a
 * DatasetFilesError naming files relative to the folder.
 */
export interface ImageFolderShape {
  readonly classNames: readonly string[];
  readonly trainSize: number;
  readonly testSize: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** How many files are open at once while headers are read. */
const PARALLEL_READS = 16;

export async function describeImageFolder(base: string, limits: DatasetLimits): Promise<ImageFolderShape> {
  const classNames = await subfolders(base, 'train');
  if (classNames.length < 2) throw new DatasetFilesError(`train needs a folder per class, found ${classNames.length}`);
  if (classNames.length > MAX_CLASSES) throw new DatasetFilesError(`train has ${classNames.length} classes; at most ${MAX_CLASSES} are supported`);
  const unknown = (await subfolders(base, 'test')).filter((name) => !classNames.includes(name));
  if (unknown.length > 0) throw new DatasetFilesError(`test has classes ${unknown.join(', ')} that train does not`);
  const files = (await listDatasetFiles('IMAGE_FOLDER', base)).map((file) => file.path);
  const trainSize = files.filter((path) => path.startsWith('train/')).length;
  const testSize = files.length - trainSize;
  for (const [split, size] of [['train', trainSize], ['test', testSize]] as const) {
    if (size < 2) throw new DatasetFilesError(`${split} holds ${size} PNG or JPEG images; at least 2 are needed`);
  }
  const headers = await mapLimit(files, PARALLEL_READS, (path) => header(base, path, limits));
  const { width, height } = headers[0]!;
  const odd = headers.findIndex((h) => h.width !== width || h.height !== height);
  if (odd >= 0) {
    throw new DatasetFilesError(`${files[odd]} is ${headers[odd]!.width}×${headers[odd]!.height}, ${files[0]} is ${width}×${height}; every image needs one size`);
  }
  const channels = (await anyColour(base, files.filter((_, i) => !headers[i]!.grayOnly), limits)) ? 3 : 1;
  return { classNames, trainSize, testSize, channels, height, width };
}

async function header(base: string, path: string, limits: DatasetLimits): Promise<ImageHeader> {
  const handle = await openRegular(base, path);
  try {
    const found = await readImageHeader(async (position, length) => {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, position);
      return buffer.subarray(0, bytesRead);
    }, isPng(path)).catch((error: Error) => {
      throw new DatasetFilesError(`${path}: ${error.message}`);
    });
    if (found.width < 1 || found.height < 1 || found.width > limits.maxImageSide || found.height > limits.maxImageSide) {
      throw new DatasetFilesError(`${path} is ${found.width}×${found.height}; each side must be between 1 and ${limits.maxImageSide}`);
    }
    return found;
  } finally {
    await handle.close();
  }
}

/** Decodes `paths` one at a time until one is in colour; their headers already bounded their size. */
async function anyColour(base: string, paths: readonly string[], limits: DatasetLimits): Promise<boolean> {
  for (const path of paths) {
    if (!isGray(await decoded(base, path, limits))) return true;
  }
  return false;
}

async function decoded(base: string, path: string, limits: DatasetLimits): Promise<Rgba> {
  const handle = await openRegular(base, path);
  try {
    const { size } = await handle.stat();
    if (size > limits.maxFileBytes) throw new DatasetFilesError(`${path} holds ${size} bytes; a file may hold at most ${limits.maxFileBytes}`);
    return decodeImage(await handle.readFile(), isPng(path));
  } catch (error) {
    if (error instanceof DatasetFilesError) throw error;
    throw new DatasetFilesError(`${path}: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

function isPng(path: string): boolean {
  return extname(path).toLowerCase() === '.png';
}
