import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Rng } from '../rng';
import { ChannelStatistics, luminance } from './channel-statistics';
import { inspectCifarFolder } from './cifar-inspect';
import { DatasetFilesError, type FileDatasetFormat, type FolderShape } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import { inspectIdxFolder } from './idx-inspect';
import { decodeImage } from './image-decode';
import { toPlanar } from './planar';
import { describeImageFolder } from './image-folder-inspect';
import type { DatasetNormalization, FileSplit, RecordFile, RecordSplit, SampleManifest } from './manifest';
import { openRegular } from './regular-file';
import { searchSplit } from './split';

/** What registration makes of a dataset folder. */
export interface RegisteredFolder {
  readonly shape: FolderShape & { readonly sizesVary: boolean };
  readonly manifest: SampleManifest;
  readonly normalization: DatasetNormalization;
}

export interface RegistrationOptions {
  readonly searchFraction: number;
  readonly splitSeed: number;
  readonly skipCorrupt: boolean;
  readonly onProgress?: (phase: RegistrationPhase, done: number, total: number) => void;
}

export type RegistrationPhase = 'headers' | 'statistics';

/**
 * How many training images of an image folder the normalization is computed over: decoding all
 * of them would make registration as slow as an epoch, and a seeded sample of this many pins the
 * mean and deviation to about a thousandth.
 */
export const STATISTICS_SAMPLE = 1000;

/**
 * Reads a dataset folder's headers (never decoding every image) into its sample manifest, then
 * computes the normalization over the training split less the search hold-out: exactly over every
 * record of IDX and CIFAR, over a seeded sample of an image folder.
 */
export async function registerFolder(format: FileDatasetFormat, base: string, limits: DatasetLimits, options: RegistrationOptions): Promise<RegisteredFolder> {
  const { manifest, shape } = await manifestOf(format, base, limits, options);
  const { trainIndices } = searchSplit(manifest.train.labels.length, options.searchFraction, options.splitSeed);
  const normalization =
    manifest.train.kind === 'records'
      ? await recordStatistics(base, manifest.train, trainIndices, options)
      : await imageStatistics(base, manifest.train, manifest.channels, trainIndices, limits, options);
  return { shape, manifest, normalization };
}

async function manifestOf(format: FileDatasetFormat, base: string, limits: DatasetLimits, options: RegistrationOptions) {
  if (format === 'IMAGE_FOLDER') {
    const found = await describeImageFolder(base, limits, {
      skipCorrupt: options.skipCorrupt,
      onProgress: (done, total) => options.onProgress?.('headers', done, total),
    });
    const manifest: SampleManifest = { version: 1, format, classes: found.classNames, channels: found.channels, ...found.splits, skipped: found.skipped };
    return { manifest, shape: { ...found, numClasses: found.classNames.length } };
  }
  const found = format === 'IDX' ? { ...(await inspectIdxFolder(base, limits)), classNames: null } : await inspectCifarFolder(base, limits);
  const classes = found.classNames ?? Array.from({ length: found.numClasses }, (_, i) => String(i));
  const manifest: SampleManifest = { version: 1, format, classes: [...classes], channels: found.channels, ...found.splits, skipped: [] };
  return { manifest, shape: { ...found, sizesVary: false } };
}

/** Streams every training record once, adding those not held out for search. */
async function recordStatistics(base: string, split: RecordSplit, trainIndices: Uint32Array, options: RegistrationOptions): Promise<DatasetNormalization> {
  const plane = split.height * split.width;
  const stats = new ChannelStatistics(split.channels);
  const gray = split.channels === 3 ? new ChannelStatistics(1) : null;
  let index = 0;
  let next = 0;
  for (const file of split.files) {
    for await (const record of records(base, file, split.channels * plane)) {
      if (next < trainIndices.length && trainIndices[next] === index) {
        stats.add(record, plane, split.layout);
        gray?.add(luminance(record, plane, split.layout), plane, 'chw');
        next++;
      }
      if (++index % 10_000 === 0) options.onProgress?.('statistics', index, split.labels.length);
    }
  }
  options.onProgress?.('statistics', index, split.labels.length);
  return { channels: stats.result(), luminance: gray?.result() ?? null, images: stats.images };
}

/** The pixels of each record of `file` in order; each array is reused for the next record. */
async function* records(base: string, file: RecordFile, pixels: number): AsyncGenerator<Uint8Array> {
  const handle = await openRegular(base, file.path);
  const source: Readable = handle.createReadStream();
  const stream = file.gzip ? source.pipe(createGunzip()) : source;
  const record = new Uint8Array(pixels);
  let position = 0;
  let produced = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length && produced < file.records) {
        const start = file.offset + produced * file.stride;
        const inRecord = position - start;
        if (inRecord < 0) {
          const skip = Math.min(-inRecord, chunk.length - at);
          at += skip;
          position += skip;
          continue;
        }
        const take = Math.min(pixels - inRecord, chunk.length - at);
        record.set(chunk.subarray(at, at + take), inRecord);
        at += take;
        position += take;
        if (inRecord + take === pixels) {
          produced++;
          yield record;
        }
      }
      position += chunk.length - at;
    }
  } finally {
    stream.destroy();
    await handle.close();
  }
  if (produced !== file.records) throw new DatasetFilesError(`${file.path} ended after ${produced} of ${file.records} records; register the dataset again once it is complete`);
}

/**
 * Decodes a seeded sample of the training images (less the hold-out) at their own size. A gray image
 * counts as R = G = B in a colour dataset. An image that does not decode is left out of the sample:
 * the loader meets it again and fails or skips it there, naming it.
 */
async function imageStatistics(
  base: string,
  split: FileSplit,
  channels: number,
  trainIndices: Uint32Array,
  limits: DatasetLimits,
  options: RegistrationOptions,
): Promise<DatasetNormalization> {
  const stats = new ChannelStatistics(channels);
  const gray = channels === 3 ? new ChannelStatistics(1) : null;
  const order = new Rng((options.splitSeed ^ 0x2545f491) >>> 0).permutation(trainIndices.length);
  const sample = Array.from(order.subarray(0, Math.min(STATISTICS_SAMPLE, order.length)), (i) => trainIndices[i]!).sort((a, b) => a - b);
  for (const [done, index] of sample.entries()) {
    const path = split.paths[index]!;
    if (split.bytes[index]! > limits.maxFileBytes) continue;
    const image = await readRegular(base, path)
      .then((bytes) => toPlanar(decodeImage(bytes, path.toLowerCase().endsWith('.png'))))
      .catch(() => null);
    if (image === null) continue;
    const plane = image.height * image.width;
    const data = image.channels === channels ? image.data : replicate(image.data, plane, channels);
    stats.add(data, plane, 'chw');
    gray?.add(image.channels === 3 ? luminance(image.data, plane, 'chw') : image.data, plane, 'chw');
    if ((done + 1) % 100 === 0) options.onProgress?.('statistics', done + 1, sample.length);
  }
  if (stats.images === 0) throw new DatasetFilesError('none of the sampled training images decodes; is the folder corrupt?');
  return { channels: stats.result(), luminance: gray?.result() ?? null, images: stats.images };
}

async function readRegular(base: string, path: string): Promise<Buffer> {
  const handle = await openRegular(base, path);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function replicate(plane1: Uint8Array, plane: number, channels: number): Uint8Array {
  const out = new Uint8Array(plane * channels);
  for (let c = 0; c < channels; c++) out.set(plane1.subarray(0, plane), c * plane);
  return out;
}
