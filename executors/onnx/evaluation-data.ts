/**
 * The images configurations are scored on, read once per job: seeded batches of the search
 * hold-out, the test split in batches, and the training images BN statistics are recalibrated on.
 * The SLIM, EVALUATE and EXPORT jobs all read them here, so the same settings give the same images.
 */
import { createHash } from 'node:crypto';
import type { BlobRef } from '../contract';
import { DEFAULT_TRANSFORMS, openDataset, type Batch, type LoaderSettings, type SplitReader, type StreamedDataset } from '../data/loader';
import type { ImageShape, Normalization } from '../data/sample';
import type { RegisteredDatasetSpec } from '../data/source';
import { Rng } from '../rng';
import type { CalibrationBatch } from './recalibrate';
import { labelledImages, type LabelledImages } from './session';

/** Calibration images go through the statistics model in batches of this many. */
export const CALIBRATION_BATCH = 256;

/** A batch to score on, and what identifies it in the evaluation cache. */
export interface ScoringBatch {
  readonly images: LabelledImages;
  /** sha256 of the pixels and labels of the batch it is (the leading part of). */
  readonly digest: string;
  /** The seed of a search hold-out batch; null for a batch of the test split. */
  readonly seed: number | null;
}

/** Batch i holds the first `size` images of `new Rng((seed + i) >>> 0).permutation(split.count)`. */
export async function holdOutBatches(split: SplitReader, input: ImageShape, size: number, seed: number, count: number): Promise<ScoringBatch[]> {
  const images = Math.min(size, split.count);
  const batches: ScoringBatch[] = [];
  for (let i = 0; i < count; i++) {
    const batchSeed = seed + i;
    const indices = new Rng(batchSeed >>> 0).permutation(split.count).slice(0, images);
    for await (const batch of split.batches(indices, images)) batches.push({ ...scoringBatch(batch, input), seed: batchSeed });
  }
  return batches;
}

/**
 * The whole split in order, in batches of `size`; a last batch of one image joins the one before,
 * since batch statistics need two.
 */
export async function splitBatches(split: SplitReader, input: ImageShape, size: number): Promise<ScoringBatch[]> {
  const all = Uint32Array.from({ length: split.count }, (_, i) => i);
  const batches: Batch[] = [];
  for await (const batch of split.batches(all, size)) batches.push(batch);
  return mergeShortTail(batches).map((batch) => ({ ...scoringBatch(batch, input), seed: null }));
}

/** Training images for BN recalibration: the first `count` of a seeded permutation of the split. */
export interface CalibrationImages {
  readonly batches: readonly CalibrationBatch[];
  readonly images: number;
  readonly seed: number;
  /** sha256 of every calibration image, in order. */
  readonly digest: string;
}

/** `norm`: the normalization the images are seen through, if not the dataset's own. */
export async function calibrationImages(train: SplitReader, count: number, seed: number, norm?: Normalization): Promise<CalibrationImages> {
  const indices = new Rng(seed >>> 0).permutation(train.count).slice(0, Math.min(count, train.count));
  const read: Batch[] = [];
  for await (const batch of train.batches(indices, CALIBRATION_BATCH, norm && { norm })) read.push(batch);
  const batches = mergeShortTail(read).map((b) => ({ images: b.images, count: b.size }));
  const hash = createHash('sha256');
  for (const b of batches) hash.update(bytesOf(b.images));
  return { batches, images: batches.reduce((n, b) => n + b.count, 0), seed, digest: hash.digest('hex') };
}

/** The first `count` images of a batch: a seeded random sample too, since the batch is one. */
export function leadingImages(batch: ScoringBatch, count: number): ScoringBatch {
  const data = batch.images;
  const perImage = data.shape.channels * data.shape.height * data.shape.width;
  return {
    ...batch,
    images: { images: data.images.subarray(0, count * perImage), labels: data.labels.subarray(0, count), shape: data.shape, count },
  };
}

function scoringBatch(batch: Batch, input: ImageShape): Omit<ScoringBatch, 'seed'> {
  const digest = createHash('sha256').update(bytesOf(batch.images)).update(bytesOf(batch.labels)).digest('hex');
  return { images: labelledImages(batch.images, batch.labels, input), digest };
}

/** A last batch of fewer than 2 images has no variance; it joins the batch before it. */
function mergeShortTail(list: readonly Batch[]): Batch[] {
  const last = list.at(-1);
  if (list.length < 2 || !last || last.size >= 2) return [...list];
  const previous = list[list.length - 2]!;
  const images = new Float32Array(previous.images.length + last.images.length);
  images.set(previous.images);
  images.set(last.images, previous.images.length);
  const labels = new Int32Array(previous.size + last.size);
  labels.set(previous.labels);
  labels.set(last.labels, previous.size);
  return [...list.slice(0, -2), { images, labels, size: previous.size + last.size }];
}

function bytesOf(view: Float32Array | Int32Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** What a job records about the images it scored on. */
export interface ScoringImagesRecord {
  readonly transform: string;
  readonly channels: string;
  readonly skippedCorrupt: number;
}

/**
 * Opens the dataset as the supernet's trainer evaluates (its evaluation crop), reads what `read`
 * reads, and closes it again.
 */
export async function readScoringImages<T>(
  source: { readonly dataset: RegisteredDatasetSpec; readonly evalCropRatio?: number },
  input: ImageShape,
  needs: { readonly train: boolean; readonly test: boolean },
  settings: LoaderSettings,
  readBlob: (ref: BlobRef) => Promise<Buffer>,
  read: (data: StreamedDataset) => Promise<T>,
): Promise<{ readonly images: T; readonly record: ScoringImagesRecord }> {
  const transforms = { ...DEFAULT_TRANSFORMS, evalCropRatio: source.evalCropRatio ?? DEFAULT_TRANSFORMS.evalCropRatio };
  const data = await openDataset(source.dataset, input, transforms, settings, readBlob, needs);
  try {
    const images = await read(data);
    const { skippedCorrupt } = await data.stats();
    return { images, record: { transform: data.transforms.eval, channels: data.transforms.channels, skippedCorrupt } };
  } finally {
    await data.close();
  }
}
