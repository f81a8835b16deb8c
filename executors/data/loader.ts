import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { BlobRef } from '../contract';
import { Rng } from '../rng';
import { ChannelStatistics, channelStatistics, luminance } from './channel-statistics';
import { DatasetFilesError } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import { DecodePool } from './decode-pool';
import type { DecodeItem } from './decode-protocol';
import { prefetch } from './prefetch';
import { openRegular } from './regular-file';
import type { CacheStats } from './decoded-cache';
import { decodeManifest, manifestSha256, uniformSize, type DatasetNormalization, type ManifestSplit, type RecordFile, type SampleManifest } from './manifest';
import { registerFolder } from './manifest-build';
import type { ImageShape, Normalization, SamplePlan, SampleRef } from './sample';
import type { RegisteredDatasetSpec } from './source';
import { searchSplit, splitDigest, type SearchSplit } from './split';
import type { ImageSet } from './images';
import { syntheticImages } from './synthetic';
import { centreCrop, randomResizedCrop } from './transforms';

/** How a job's loader runs: threads, cache, read-ahead, limits. */
export interface LoaderSettings {
  readonly threads: number;
  readonly cacheBytes: number;
  /** Batches decoded ahead of the one in use. */
  readonly prefetch: number;
  readonly limits: DatasetLimits;
}

/**
 * Defaults sized for the machine: a decoder thread per core, up to 4 (a thread sleeps once it is the
 * read-ahead's batches ahead, so it costs little while training keeps up; on 2 cores, 1 thread
 * decoded at 1.0–1.6x training's rate and 2 at 2.5–2.9x, bench/results/data.md), and a cache of a
 * tenth of its memory up to 2 GiB. SLIMLAB_DATA_THREADS and SLIMLAB_DATA_CACHE_MB override them; the file
 * limits are the server's registration limits, read from the same variables.
 */
export function loaderSettings(env: NodeJS.ProcessEnv = process.env): LoaderSettings {
  const whole = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
    return value;
  };
  return {
    threads: whole('SLIMLAB_DATA_THREADS', Math.max(1, Math.min(4, availableParallelism())), 1),
    cacheBytes: whole('SLIMLAB_DATA_CACHE_MB', Math.min(2048, Math.floor(totalmem() / 10 / 2 ** 20)), 0) * 2 ** 20,
    prefetch: 3,
    limits: { maxFileBytes: whole('SLIMLAB_DATASET_MAX_FILE_MB', 2048, 1) * 2 ** 20, maxImageSide: whole('SLIMLAB_DATASET_MAX_IMAGE_SIDE', 4096, 1) },
  };
}

/** The recipe's transforms: what training and evaluation make of an image (README, "Transforms"). */
export interface Transforms {
  /** Training, images already at the input size: zero padding, then a random crop back. */
  readonly cropPadding: number;
  readonly horizontalFlip: boolean;
  /** Training, images of another size: random-resized-crop's area and aspect ranges. */
  readonly cropScale: readonly [number, number];
  readonly cropRatio: readonly [number, number];
  /** Evaluation, images of another size: the centre crop's share of the resized shorter side. */
  readonly evalCropRatio: number;
}

export const DEFAULT_TRANSFORMS: Transforms = {
  cropPadding: 2,
  horizontalFlip: true,
  cropScale: [0.08, 1],
  cropRatio: [3 / 4, 4 / 3],
  evalCropRatio: 0.875,
};

export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
}

export interface BatchOptions {
  /** Normalization other than the dataset's (an exported model is fed raw [0, 1] pixels). */
  readonly norm?: Normalization;
  /** Training: draws crops and flips from `rng`; without it, the evaluation transform. */
  readonly augment?: { readonly rng: Rng };
  /** Batches whose draws are made but which are not decoded: a resumed epoch's finished steps. */
  readonly skipBatches?: number;
}

/** One split as a job reads it: labels at hand, pixels decoded on demand. */
export interface SplitReader {
  readonly count: number;
  readonly labels: Uint8Array;
  batches(indices: ArrayLike<number>, batchSize: number, options?: BatchOptions): AsyncGenerator<Batch>;
}

export interface StreamedDataset {
  readonly train: SplitReader;
  readonly search: SplitReader;
  readonly test: SplitReader;
  readonly split: SearchSplit;
  /** For the network's input channels. */
  readonly normalization: Normalization;
  /** What was done to the images, in words, for the run's record. */
  readonly transforms: TransformRecord;
  /** Decoded-image cache counters, and how many corrupt images were skipped. */
  stats(): Promise<CacheStats & { readonly skippedCorrupt: number }>;
  close(): Promise<void>;
}

export interface TransformRecord {
  readonly input: string;
  readonly train: string;
  readonly eval: string;
  readonly channels: string;
  readonly normalization: Normalization;
}

/**
 * Opens a dataset for one job: the manifest read (or, for a dataset registered before manifests,
 * made), the hold-out checked against the registered digest, and a decoder pool started. `needs`
 * names the splits the job reads, so a gzipped record file it never reads is not decompressed.
 */
export async function openDataset(
  spec: RegisteredDatasetSpec,
  input: ImageShape,
  transforms: Transforms,
  settings: LoaderSettings,
  readBlob: (ref: BlobRef) => Promise<Buffer>,
  needs: { readonly train: boolean; readonly test: boolean } = { train: true, test: true },
): Promise<StreamedDataset> {
  const source = spec.format === 'SYNTHETIC' ? syntheticSource(spec) : await fileSource(spec, settings, readBlob);
  const { manifest, normalization, manifestDigest } = source;
  const split = searchSplit(manifest.train.labels.length, spec.searchFraction, spec.splitSeed);
  // The hold-out must be the one the dataset was registered with, or search and retraining would
  // silently score on other images than every earlier run of this dataset.
  const digest = splitDigest(split, manifestDigest);
  if (spec.splitDigest && digest !== spec.splitDigest) {
    throw new Error(
      `the search split of the dataset does not match the one made when it was registered (digest ${digest.slice(0, 12)}… against ${spec.splitDigest.slice(0, 12)}…); register the dataset again`,
    );
  }
  const shared: SharedArrayBuffer[] = [...source.shared];
  const refsFor = async (name: 'train' | 'test') => source.inMemory?.[name] ?? refsOf(spec.uri, manifest[name], shared, settings.limits);
  const refs = {
    train: needs.train ? await refsFor('train') : null,
    test: needs.test ? await refsFor('test') : null,
  };
  const pool = await DecodePool.start({ threads: settings.threads, cacheBytes: settings.cacheBytes, limits: settings.limits, shared });
  const size = uniformSize(manifest);
  const passThrough = size !== null && size.height === input.height && size.width === input.width;
  const norm = normalizationFor(normalization, input.channels);
  let skippedCorrupt = 0;
  const reader = (splitName: 'train' | 'test', indices: ArrayLike<number> | null, idBase: number): SplitReader => {
    const all = manifest[splitName];
    const at = (i: number) => (indices === null ? i : indices[i]!);
    const count = indices === null ? all.labels.length : indices.length;
    const labels = Uint8Array.from({ length: count }, (_, i) => all.labels[at(i)]!);
    return {
      count,
      labels,
      batches: (order, batchSize, options = {}) => {
        const sampleRefs = refs[splitName];
        if (sampleRefs === null) throw new Error(`the ${splitName} split was not opened for this job`);
        const producers = batchProducers(order, batchSize, options, (i, rng) => {
          const index = at(i);
          return { sample: idBase + index, ref: sampleRefs(index), plan: planFor(all, index, input, passThrough, transforms, rng) };
        }, async (items, positions) => {
          const rendered = await pool.render(items, input, options.norm ?? norm, spec.skipCorrupt === true).catch((error: Error) => {
            // A job's error is shown to the project: it names the file within the dataset, not where the dataset is.
            throw new Error(error.message.split(`${spec.uri}/`).join(''));
          });
          skippedCorrupt += rendered.skipped.length;
          const kept = positions.filter((_, k) => !rendered.skipped.includes(k));
          return { images: rendered.images, labels: Int32Array.from(kept, (i) => labels[i]!), size: kept.length };
        });
        return nonEmpty(prefetch(producers, settings.prefetch));
      },
    };
  };
  return {
    train: reader('train', split.trainIndices, 0),
    search: reader('train', split.searchIndices, 0),
    test: reader('test', null, manifest.train.labels.length),
    split,
    normalization: norm,
    transforms: describe(manifest, input, passThrough, transforms, norm),
    stats: async () => ({ ...(await pool.stats()), skippedCorrupt }),
    close: () => pool.close(),
  };
}

interface Source {
  readonly manifest: SampleManifest;
  readonly normalization: DatasetNormalization;
  readonly manifestDigest: string | null;
  readonly shared: readonly SharedArrayBuffer[];
  /** Where each sample of a split made in memory is, in `shared`; file splits are located by their manifest. */
  readonly inMemory?: Readonly<Record<'train' | 'test', (index: number) => SampleRef>>;
}

async function fileSource(spec: RegisteredDatasetSpec, settings: LoaderSettings, readBlob: (ref: BlobRef) => Promise<Buffer>): Promise<Source> {
  if (spec.manifest && spec.normalization) {
    const bytes = await readBlob(spec.manifest);
    const digest = manifestSha256(bytes);
    if (digest !== spec.manifest.sha256) throw new Error(`the dataset's manifest hashes to ${digest}, not the ${spec.manifest.sha256} it was stored as`);
    return { manifest: decodeManifest(bytes), normalization: spec.normalization, manifestDigest: digest, shared: [] };
  }
  // Registered before manifests: made here as registration makes them now, checked by the old digest.
  if (spec.format === 'SYNTHETIC') throw new Error('a SYNTHETIC dataset has no files');
  const made = await registerFolder(spec.format, spec.uri, settings.limits, {
    searchFraction: spec.searchFraction,
    splitSeed: spec.splitSeed,
    skipCorrupt: spec.skipCorrupt === true,
  });
  return { manifest: made.manifest, normalization: made.normalization, manifestDigest: null, shared: [] };
}

/**
 * A synthetic dataset is made in memory, into buffers the decoder threads share; its manifest holds
 * the labels and the image shape, and no files.
 */
function syntheticSource(spec: RegisteredDatasetSpec): Source {
  const synthetic = { numClasses: spec.numClasses, channels: spec.inputChannels, size: spec.inputHeight, seed: spec.splitSeed };
  const sets = { train: syntheticImages(synthetic, 'train', spec.trainSize), test: syntheticImages(synthetic, 'test', spec.testSize) };
  const shared = [sets.train, sets.test].map((set) => {
    const buffer = new SharedArrayBuffer(set.pixels.length);
    new Uint8Array(buffer).set(set.pixels);
    return buffer;
  });
  const split = searchSplit(spec.trainSize, spec.searchFraction, spec.splitSeed);
  const trainOnly = { ...sets.train, count: split.trainIndices.length, pixels: gather(sets.train.pixels, split.trainIndices, spec.inputChannels * spec.inputHeight ** 2) };
  const stats = channelStatistics(trainOnly);
  const records = (labels: Uint8Array): ManifestSplit => ({
    kind: 'records',
    labels: [...labels],
    channels: spec.inputChannels,
    height: spec.inputHeight,
    width: spec.inputHeight,
    layout: 'chw',
    files: [],
  });
  const shape = { channels: spec.inputChannels, height: spec.inputHeight, width: spec.inputHeight };
  const manifest: SampleManifest = {
    version: 1,
    format: 'SYNTHETIC',
    classes: Array.from({ length: spec.numClasses }, (_, i) => String(i)),
    channels: spec.inputChannels,
    train: records(sets.train.labels),
    test: records(sets.test.labels),
    skipped: [],
  };
  const inMemory = { train: sharedRefs(0, shape), test: sharedRefs(1, shape) };
  return { manifest, normalization: { channels: stats, luminance: grayStatistics(trainOnly), images: trainOnly.count }, manifestDigest: null, shared, inMemory };
}

/** Of a colour set's gray version, as registration computes them for a folder: what a gray network is normalized with. */
function grayStatistics(set: ImageSet): Normalization | null {
  if (set.channels !== 3) return null;
  const plane = set.height * set.width;
  const gray = new ChannelStatistics(1);
  for (let i = 0; i < set.count; i++) gray.add(luminance(set.pixels.subarray(i * 3 * plane, (i + 1) * 3 * plane), plane, 'chw'), plane, 'chw');
  return gray.result();
}

function gather(pixels: Uint8Array, indices: Uint32Array, size: number): Uint8Array {
  const out = new Uint8Array(indices.length * size);
  indices.forEach((index, i) => out.set(pixels.subarray(index * size, (index + 1) * size), i * size));
  return out;
}

/**
 * Where each sample of a split is. Record files read in place when plain and planar; gzipped or
 * interleaved ones are decompressed (and made planar) once, into a buffer the threads share.
 */
async function refsOf(root: string, split: ManifestSplit, shared: SharedArrayBuffer[], limits: DatasetLimits): Promise<(index: number) => SampleRef> {
  if (split.kind === 'files') {
    return (index) => {
      const path = split.paths[index]!;
      return { kind: 'image', path: join(root, path), png: path.toLowerCase().endsWith('.png') };
    };
  }
  const shape = { channels: split.channels, height: split.height, width: split.width };
  const starts: number[] = [];
  let first = 0;
  const located: ((local: number) => SampleRef)[] = [];
  for (const file of split.files) {
    starts.push(first);
    first += file.records;
    if (!file.gzip && (split.layout === 'chw' || shape.channels === 1)) {
      const path = join(root, file.path);
      located.push((local) => ({ kind: 'record', path, offset: file.offset + local * file.stride, shape }));
    } else {
      located.push(sharedRefs(shared.push(await planarRecords(root, file, shape, split.layout, limits)) - 1, shape));
    }
  }
  return (index) => {
    let f = starts.length - 1;
    while (starts[f]! > index) f--;
    return located[f]!(index - starts[f]!);
  };
}

/** Samples of `shape`, one after another, planar, in shared buffer `buffer`. */
function sharedRefs(buffer: number, shape: ImageShape): (index: number) => SampleRef {
  const pixels = shape.channels * shape.height * shape.width;
  return (index) => ({ kind: 'shared', buffer, offset: index * pixels, shape });
}

/** Only a regular file is read, and no more of it than the limit allows, decompressed or not. */
async function planarRecords(root: string, file: RecordFile, shape: ImageShape, layout: 'chw' | 'hwc', limits: DatasetLimits): Promise<SharedArrayBuffer> {
  const { path, gzip, offset, stride, records: count } = file;
  const handle = await openRegular(root, path);
  let raw: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > limits.maxFileBytes) throw new DatasetFilesError(`${path} holds ${size} bytes; a file may hold at most ${limits.maxFileBytes}`);
    raw = await handle.readFile();
  } finally {
    await handle.close();
  }
  const bytes = gzip ? await promisify(gunzip)(raw, { maxOutputLength: limits.maxFileBytes }) : raw;
  const { channels, height, width } = shape;
  const plane = height * width;
  const pixels = channels * plane;
  const buffer = new SharedArrayBuffer(count * pixels);
  const out = new Uint8Array(buffer);
  for (let i = 0; i < count; i++) {
    const start = offset + i * stride;
    if (start + pixels > bytes.length) throw new Error(`${path} ends before record ${i}; register the dataset again`);
    if (layout === 'chw' || channels === 1) {
      out.set(bytes.subarray(start, start + pixels), i * pixels);
      continue;
    }
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[i * pixels + c * plane + p] = bytes[start + p * channels + c]!;
    }
  }
  return buffer;
}

/**
 * The plan of one sample. Images already at the input size pass through untouched (evaluation) or
 * are padded, randomly cropped back and flipped (training), drawing from `rng` exactly as the
 * in-memory loader did; others get random-resized-crop (training) or resize-and-centre-crop.
 */
function planFor(split: ManifestSplit, index: number, input: ImageShape, passThrough: boolean, transforms: Transforms, rng: Rng | null): SamplePlan {
  if (passThrough) {
    if (rng === null) return { kind: 'copy', dy: 0, dx: 0, flip: false };
    const pad = transforms.cropPadding;
    const dy = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
    const dx = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
    return { kind: 'copy', dy, dx, flip: transforms.horizontalFlip && rng.nextFloat() < 0.5 };
  }
  const width = split.kind === 'files' ? split.widths[index]! : split.width;
  const height = split.kind === 'files' ? split.heights[index]! : split.height;
  if (rng === null) return { kind: 'resample', box: centreCrop(width, height, input, transforms.evalCropRatio), flip: false };
  const box = randomResizedCrop(rng, width, height, transforms.cropScale, transforms.cropRatio);
  return { kind: 'resample', box, flip: transforms.horizontalFlip && rng.nextFloat() < 0.5 };
}

/** One producer per batch; plans are drawn as producers are made, in order, so prefetching changes nothing. */
function* batchProducers(
  order: ArrayLike<number>,
  batchSize: number,
  options: BatchOptions,
  item: (position: number, rng: Rng | null) => DecodeItem,
  render: (items: DecodeItem[], positions: number[]) => Promise<Batch>,
): Generator<() => Promise<Batch>> {
  const rng = options.augment?.rng ?? null;
  for (let start = 0, batch = 0; start < order.length; start += batchSize, batch++) {
    const positions = Array.from({ length: Math.min(batchSize, order.length - start) }, (_, b) => order[start + b]!);
    const items = positions.map((position) => item(position, rng));
    if (batch < (options.skipBatches ?? 0)) continue;
    yield () => render(items, positions);
  }
}

/** A batch whose every image was corrupt (and skipped) has nothing to train or score on. */
async function* nonEmpty(source: AsyncIterable<Batch>): AsyncGenerator<Batch> {
  for await (const batch of source) if (batch.size > 0) yield batch;
}

function normalizationFor(stats: DatasetNormalization, channels: number): Normalization {
  const own = stats.channels;
  if (own.mean.length === channels) return own;
  if (channels === 3 && own.mean.length === 1) return { mean: [own.mean[0]!, own.mean[0]!, own.mean[0]!], std: [own.std[0]!, own.std[0]!, own.std[0]!] };
  if (channels === 1 && stats.luminance) return stats.luminance;
  throw new Error(`the dataset's ${own.mean.length}-channel images cannot feed a ${channels}-channel network`);
}

function describe(manifest: SampleManifest, input: ImageShape, passThrough: boolean, t: Transforms, norm: Normalization): TransformRecord {
  const side = `${input.width}×${input.height}`;
  const flip = t.horizontalFlip ? ', random horizontal flip' : '';
  const channels =
    manifest.channels === input.channels ? (input.channels === 1 ? 'gray' : 'colour') : input.channels === 3 ? 'gray images repeated into R, G and B' : 'colour images to gray (ITU-R 601-2 luma)';
  if (passThrough) {
    return {
      input: side,
      train: t.cropPadding > 0 ? `pad ${t.cropPadding} px with black, random ${side} crop${flip}` : `as is${flip}`,
      eval: 'as is (images are already the input size)',
      channels,
      normalization: norm,
    };
  }
  const resized = Math.floor(Math.min(input.height, input.width) / t.evalCropRatio);
  return {
    input: side,
    train: `random-resized-crop to ${side} (area ${t.cropScale[0]}–${t.cropScale[1]}, aspect ${t.cropRatio[0].toFixed(3)}–${t.cropRatio[1].toFixed(3)}, bilinear, antialiased)${flip}`,
    eval: `resize shorter side to ${resized}, centre crop ${side} (ratio ${t.evalCropRatio})`,
    channels,
    normalization: norm,
  };
}
