/**
 * Datasets as jobs read them, for tests: a folder registered as registration registers it (sample
 * manifest, normalization, split digest) and opened with the streamed loader, and splits read back
 * as the very pixels they decode to. A dataset the server stored: `TestServer.jobDataset`.
 */
import type { BlobRef } from '../../executors/contract';
import type { FileDatasetFormat } from '../../executors/data/dataset-files';
import type { DatasetLimits } from '../../executors/data/dataset-limits';
import type { ImageSet } from '../../executors/data/images';
import { DEFAULT_TRANSFORMS, openDataset, type Batch, type LoaderSettings, type SplitReader, type StreamedDataset } from '../../executors/data/loader';
import { encodeManifest, manifestSha256 } from '../../executors/data/manifest';
import { registerFolder } from '../../executors/data/manifest-build';
import type { ImageShape } from '../../executors/data/sample';
import type { RegisteredDatasetSpec } from '../../executors/data/source';
import { searchSplit, splitDigest, type SearchSplit } from '../../executors/data/split';

export const TEST_LIMITS: DatasetLimits = { maxFileBytes: 1 << 30, maxImageSide: 4096 };
export const TEST_LOADER: LoaderSettings = { threads: 2, cacheBytes: 64 << 20, prefetch: 3, limits: TEST_LIMITS };

export interface Terms {
  readonly searchFraction: number;
  readonly splitSeed: number;
  readonly skipCorrupt: boolean;
}

/** What a job is handed for a dataset, and where it reads the manifest from. */
export interface JobDataset {
  readonly spec: RegisteredDatasetSpec;
  readonly readBlob: (ref: BlobRef) => Promise<Buffer>;
}

/** A folder as registration made it; `input` is its images' own shape. */
export type Registered = JobDataset & { readonly input: ImageShape };

/** Registers `root` as registration does. */
export async function register(format: FileDatasetFormat, root: string, terms: Partial<Terms> = {}): Promise<Registered> {
  const { searchFraction = 0.1, splitSeed = 3, skipCorrupt = false } = terms;
  const { manifest, normalization, shape } = await registerFolder(format, root, TEST_LIMITS, { searchFraction, splitSeed, skipCorrupt });
  const bytes = encodeManifest(manifest);
  const sha256 = manifestSha256(bytes);
  const spec: RegisteredDatasetSpec = {
    id: 'd',
    format,
    uri: root,
    inputChannels: shape.channels,
    inputHeight: shape.height,
    numClasses: shape.numClasses,
    trainSize: shape.trainSize,
    testSize: shape.testSize,
    searchFraction,
    splitSeed,
    skipCorrupt,
    splitDigest: splitDigest(searchSplit(shape.trainSize, searchFraction, splitSeed), sha256),
    manifest: { uri: 'manifest', sha256 },
    normalization,
  };
  return { spec, readBlob: async () => bytes, input: { channels: shape.channels, height: shape.height, width: shape.width } };
}

/** Registers `root` and opens it as a job would, at `input` (the images' own shape unless given). */
export async function open(
  format: FileDatasetFormat,
  root: string,
  options: Partial<Terms> & { input?: ImageShape; settings?: LoaderSettings } = {},
): Promise<Registered & { data: StreamedDataset }> {
  const registered = await register(format, root, options);
  const data = await openDataset(registered.spec, options.input ?? registered.input, DEFAULT_TRANSFORMS, options.settings ?? TEST_LOADER, registered.readBlob);
  return { ...registered, data };
}

export async function all(source: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of source) out.push(batch);
  return out;
}

/**
 * Every image of `reader` in order, at its own size `input`, as the 0–255 pixels it decodes to:
 * a mean of 0 and a deviation of 1/255 undo the scaling to [0, 1], so each value is its pixel.
 */
export async function decoded(reader: SplitReader, input: ImageShape): Promise<ImageSet> {
  const raw = { mean: new Array<number>(input.channels).fill(0), std: new Array<number>(input.channels).fill(1 / 255) };
  const pixels = new Uint8Array(reader.count * input.channels * input.height * input.width);
  const labels = new Uint8Array(reader.count);
  let count = 0;
  for await (const batch of reader.batches(Uint32Array.from({ length: reader.count }, (_, i) => i), 256, { norm: raw })) {
    // Anything but whole values means the images were resampled, and the bytes would be made up.
    if (!batch.images.every(Number.isInteger)) throw new Error(`the images are not ${input.height}×${input.width}; decoded() reads them at their own size only`);
    pixels.set(batch.images, count * input.channels * input.height * input.width);
    labels.set(batch.labels, count);
    count += batch.size;
  }
  return { count, ...input, pixels, labels };
}

export interface DecodedSplits {
  readonly train: ImageSet;
  readonly search: ImageSet;
  readonly test: ImageSet;
  readonly split: SearchSplit;
}

/** Opens `dataset` as a job would and reads all three splits at the images' own size `input`. */
export async function readSplits(dataset: JobDataset, input: ImageShape): Promise<DecodedSplits> {
  const data = await openDataset(dataset.spec, input, DEFAULT_TRANSFORMS, TEST_LOADER, dataset.readBlob);
  try {
    return { train: await decoded(data.train, input), search: await decoded(data.search, input), test: await decoded(data.test, input), split: data.split };
  } finally {
    await data.close();
  }
}

/** Registers `root`, then reads all three splits as a job would. */
export async function loadSplits(format: FileDatasetFormat, root: string, terms: Partial<Terms> = {}): Promise<DecodedSplits> {
  const registered = await register(format, root, terms);
  return readSplits(registered, registered.input);
}
