import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageSet } from './images';

/**
 * A folder of images per class, as torchvision's ImageFolder reads it:
 * `<root>/train/<class>/<image>` and `<root>/test/<class>/<image>`, PNG or JPEG, classes in name
 * order. Every image of a dataset has one size; grayscale datasets (every pixel R = G = B in the
 * first image) load as one channel, others as three.
 */

/** Lowercased extensions of the images read; other files in a class folder are ignored. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg']);

export interface ImageFolderShape {
  readonly classNames: readonly string[];
  readonly trainSize: number;
  readonly testSize: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Counts the images and reads the first one's shape, without decoding the rest. */
export function describeImageFolder(root: string): ImageFolderShape {
  const classNames = classesOf(root);
  const train = filesOf(root, 'train', classNames);
  const test = filesOf(root, 'test', classNames);
  const first = decode(train[0]!.path);
  return {
    classNames,
    trainSize: train.length,
    testSize: test.length,
    channels: isGray(first) ? 1 : 3,
    height: first.height,
    width: first.width,
  };
}

export function loadImageFolderSplit(root: string, split: 'train' | 'test'): ImageSet {
  const shape = describeImageFolder(root);
  const files = filesOf(root, split, shape.classNames);
  const { channels, height, width } = shape;
  const plane = height * width;
  const pixels = new Uint8Array(files.length * channels * plane);
  const labels = new Uint8Array(files.length);
  files.forEach((file, i) => {
    const image = decode(file.path);
    if (image.width !== width || image.height !== height) {
      throw new Error(`${file.path}: image is ${image.width}×${image.height}, the dataset's images are ${width}×${height}`);
    }
    labels[i] = file.label;
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
  if (classes.length > 256) throw new Error(`${train}: ${classes.length} classes; at most 256 are supported`);
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

function decode(path: string): Rgba {
  const bytes = readFileSync(path);
  try {
    if (extname(path).toLowerCase() === '.png') return PNG.sync.read(bytes);
    return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (error) {
    throw new Error(`${path}: cannot decode the image (${(error as Error).message})`);
  }
}

function isGray(image: Rgba): boolean {
  for (let p = 0; p < image.width * image.height; p++) {
    const r = image.data[p * 4];
    if (image.data[p * 4 + 1] !== r || image.data[p * 4 + 2] !== r) return false;
  }
  return true;
}
