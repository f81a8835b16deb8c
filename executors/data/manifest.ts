import { createHash } from 'node:crypto';
import { relativePathProblem } from '../remote/manifest';
import type { FileDatasetFormat } from './dataset-files';
import type { Split } from './idx';
import type { Normalization } from './sample';

/**
 * Every sample of a dataset, made once at registration and stored as an artifact: where each one's
 * pixels are, its label and split, and what its header said. Jobs read samples through it, so they
 * never list or inspect the folder again, and the split digest covers it: a dataset whose files
 * changed since registration cannot silently train on other samples.
 */
export interface SampleManifest {
  readonly version: 1;
  /** SYNTHETIC only for a dataset made in memory by its job, never stored. */
  readonly format: FileDatasetFormat | 'SYNTHETIC';
  /** Label order. */
  readonly classes: readonly string[];
  /** 1 when every image is gray, else 3 (IDX and CIFAR: the records' channel count). */
  readonly channels: number;
  readonly train: ManifestSplit;
  readonly test: ManifestSplit;
  /** Files left out because they could not be read (a dataset registered with skipCorrupt). */
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
}

/** One split: image files (IMAGE_FOLDER), or fixed-size records in a few files (IDX, CIFAR). */
export type ManifestSplit = FileSplit | RecordSplit;

export interface FileSplit {
  readonly kind: 'files';
  /** Relative to the dataset folder, with `/`. */
  readonly paths: readonly string[];
  readonly labels: readonly number[];
  readonly bytes: readonly number[];
  readonly widths: readonly number[];
  readonly heights: readonly number[];
}

export interface RecordSplit {
  readonly kind: 'records';
  readonly labels: readonly number[];
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Pixel order inside a record: planar (CIFAR), or interleaved (IDX of shape [N, H, W, C]). */
  readonly layout: 'chw' | 'hwc';
  /** Record files in sample order. */
  readonly files: readonly RecordFile[];
}

export interface RecordFile {
  readonly path: string;
  readonly gzip: boolean;
  readonly records: number;
  /** Where the first record's pixels start, in the (decompressed) file. */
  readonly offset: number;
  /** Bytes from one record's pixels to the next one's. */
  readonly stride: number;
  readonly bytes: number;
}

/**
 * The statistics images are normalized with, computed at registration over the training split less
 * the search hold-out: `channels` in the dataset's own channel count, and for a colour dataset also
 * `luminance`, for a one-channel network fed its gray version.
 */
export interface DatasetNormalization {
  readonly channels: Normalization;
  readonly luminance: Normalization | null;
  /** How many training images the statistics were computed over. */
  readonly images: number;
}

export function splitOf(manifest: SampleManifest, split: Split): ManifestSplit {
  return split === 'train' ? manifest.train : manifest.test;
}

export function sampleCount(split: ManifestSplit): number {
  return split.labels.length;
}

/** The width and height every image of the manifest has, or null when they vary. */
export function uniformSize(manifest: SampleManifest): { readonly height: number; readonly width: number } | null {
  const sizes = [manifest.train, manifest.test].map((split) => {
    if (split.kind === 'records') return { height: split.height, width: split.width };
    const { widths, heights } = split;
    const same = widths.every((w, i) => w === widths[0] && heights[i] === heights[0]);
    return same && widths.length > 0 ? { height: heights[0]!, width: widths[0]! } : null;
  });
  const [train, test] = sizes;
  return train && test && train.height === test.height && train.width === test.width ? train : null;
}

export function encodeManifest(manifest: SampleManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest));
}

export function manifestSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Parses a stored manifest and checks what a reader relies on (a manifest travels to workers): every
 * path relative and safe, labels in range, the columns of a split of one length.
 */
export function decodeManifest(bytes: Uint8Array): SampleManifest {
  const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as SampleManifest;
  const bad = (why: string) => new Error(`the dataset manifest is not valid: ${why}`);
  if (manifest?.version !== 1) throw bad(`unknown version ${String(manifest?.version)}`);
  if (!Array.isArray(manifest.classes) || manifest.classes.length < 2) throw bad('fewer than 2 classes');
  for (const name of ['train', 'test'] as const) {
    const split = manifest[name];
    const paths = split.kind === 'files' ? split.paths : split.kind === 'records' ? split.files.map((file) => file.path) : null;
    if (paths === null) throw bad(`${name} has no known kind`);
    for (const path of paths) {
      const problem = relativePathProblem(path);
      if (problem !== null) throw bad(`${name} path ${JSON.stringify(path)} ${problem}`);
    }
    if (split.labels.some((label) => !Number.isInteger(label) || label < 0 || label >= manifest.classes.length)) throw bad(`${name} has a label outside the classes`);
    if (split.kind === 'files' && [split.paths, split.bytes, split.widths, split.heights].some((column) => column.length !== split.labels.length)) {
      throw bad(`${name}'s columns differ in length`);
    }
    if (split.kind === 'records' && split.files.reduce((sum, file) => sum + file.records, 0) !== split.labels.length) {
      throw bad(`${name}'s record files hold another number of records than it has labels`);
    }
  }
  return manifest;
}
