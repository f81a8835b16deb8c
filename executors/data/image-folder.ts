import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { decodeImage, isGray } from './image-decode';
import type { ImageSet } from './images';

/**
 * A folder of images per class, as torchvision's ImageFolder reads it:
 * `<root>/train/<class>/<image>` and `<root>/test/<class>/<image>`, PNG or JPEG, classes in name
 * order. Every image of a dataset has one size. Registration decides the channels over every image
 * (one when all are gray, three when any is colour, gray images then repeated into R, G and B); the
 * loader is told that count so both splits agree with what was registered.
 */

/** Lowercased extensions of the images read; other files in a class folder are ignored. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg']);

/** The most classes: labels are stored as bytes. */
export const MAX_CLASSES = 256;

export function loadImageFolderSplit(root: string, split: 'train' | 'test', channels: number): ImageSet {
  const files = filesOf(root, split, classesOf(root));
  const first = decode(files[0]!.path);
  const { width, height } = first;
  const plane = height * width;
  const pixels = new Uint8Array(files.length * channels * plane);
  const labels = new Uint8Array(files.length);
  files.forEach((file, i) => {
    const image = i === 0 ? first : decode(file.path);
    if (image.width !== width || image.height !== height) {
      throw new Error(`${file.path}: image is ${image.width}×${image.height}, the dataset's images are ${width}×${height}`);
    }
    if (channels === 1 && !isGray(image)) throw new Error(`${file.path}: image is in colour; the dataset was registered with one channel`);
    labels[i] = file.label;
    // Decoders give gray pixels as R = G = B, so a gray image fills all three channels of a colour dataset.
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) pixels[(i * channels + c) * plane + p] = image.data[p * 4 + c]!;
    }
  });
  return { count: files.length, channels, height, width, pixels, labels };
}

function classesOf(root: string): string[] {
  const train = join(root, 'train');
  const classes = subfolders(train);
  if (classes.length < 2) throw new Error(`${train}: needs a folder per class, found ${classes.length}`);
  if (classes.length > MAX_CLASSES) throw new Error(`${train}: ${classes.length} classes; at most ${MAX_CLASSES} are supported`);
  return classes;
}

function filesOf(root: string, split: 'train' | 'test', classNames: readonly string[]): { path: string; label: number }[] {
  const folder = join(root, split);
  const unknown = subfolders(folder).filter((name) => !classNames.includes(name));
  if (unknown.length > 0) throw new Error(`${folder}: classes ${unknown.join(', ')} are not in ${join(root, 'train')}`);
  const files = classNames.flatMap((name, label) =>
    listDir(join(folder, name))
      .filter((file) => IMAGE_EXTENSIONS.has(extname(file).toLowerCase()))
      .sort()
      .map((file) => ({ path: join(folder, name, file), label })),
  );
  if (files.length === 0) throw new Error(`${folder}: no PNG or JPEG images`);
  return files;
}

function subfolders(folder: string): string[] {
  return listDir(folder)
    .filter((name) => statSync(join(folder, name)).isDirectory())
    .sort();
}

function listDir(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    throw new Error(`${folder}: not a readable folder`);
  }
}

function decode(path: string) {
  try {
    return decodeImage(readFileSync(path), extname(path).toLowerCase() === '.png');
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
