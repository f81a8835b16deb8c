/**
 * The pre-streaming loader, kept as the oracle the streamed loader (executors/data/loader.ts) must
 * match bit for bit: Fashion-MNIST's gzipped IDX files read whole into memory, the training set
 * split by `searchSplit`, and batches normalized and augmented by the old `batches()`. Test-only,
 * and only as much of it as the oracle tests use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DatasetSpec } from '../../executors/data/source';
import type { ImageSet } from '../../executors/data/images';
import { IDX_FILES, type Split } from '../../executors/data/idx';
import type { Batch } from '../../executors/data/loader';
import type { Normalization } from '../../executors/data/sample';
import { searchSplit } from '../../executors/data/split';
import type { Rng } from '../../executors/rng';

interface ReferenceSplits {
  readonly train: ImageSet;
  readonly search: ImageSet;
  readonly test: ImageSet;
}

/** The three sets of a gray MNIST-layout folder with gzipped files (as Fashion-MNIST ships), as the old loader gave them. */
export function loadReference(spec: Pick<DatasetSpec, 'uri' | 'searchFraction' | 'splitSeed'>): ReferenceSplits {
  const full = readSplit(spec.uri, 'train');
  const split = searchSplit(full.count, spec.searchFraction, spec.splitSeed);
  return { train: subset(full, split.trainIndices), search: subset(full, split.searchIndices), test: readSplit(spec.uri, 'test') };
}

function readSplit(folder: string, split: Split): ImageSet {
  const images = readIdx(join(folder, `${IDX_FILES[split].images}.gz`));
  const labels = readIdx(join(folder, `${IDX_FILES[split].labels}.gz`));
  if (images.dims.length !== 3) throw new Error(`${folder}: ${split} images have rank ${images.dims.length}; the reference reads gray [N, H, W] only`);
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) throw new Error(`${folder}: ${split} has ${images.dims[0]} images but ${labels.dims[0]} labels`);
  const [count, height, width] = images.dims as [number, number, number];
  return { count, channels: 1, height, width, pixels: images.data, labels: labels.data };
}

/** A gzipped IDX file of unsigned bytes: its dimensions and its values. */
function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  const bytes = gunzipSync(readFileSync(path));
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new Error(`${path}: not an IDX file of unsigned bytes`);
  const rank = bytes[3]!;
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const data = bytes.subarray(4 + 4 * rank);
  const values = dims.reduce((a, b) => a * b, 1);
  if (data.length !== values) throw new Error(`${path}: header says ${values} values, file holds ${data.length}`);
  return { dims, data };
}

/** The images at `indices`, in that order. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.channels * set.height * set.width;
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i]!;
    if (from < 0 || from >= set.count) throw new Error(`image index ${from} is outside 0..${set.count - 1}`);
    pixels.set(set.pixels.subarray(from * size, (from + 1) * size), i * size);
    labels[i] = set.labels[from]!;
  }
  return { ...set, count: indices.length, pixels, labels };
}

interface Augmentation {
  /** Zero padding before a random crop back to the original size; 0 turns cropping off. */
  readonly cropPadding: number;
  readonly horizontalFlip: boolean;
}

/**
 * Normalized (and optionally augmented) batches of `indices` in order; the last batch may be
 * smaller. Augmentation draws from `rng`: dy, dx, then the flip, for each image in turn.
 */
export function* batches(set: ImageSet, indices: ArrayLike<number>, batchSize: number, norm: Normalization, augmentation?: Augmentation, rng?: Rng): Generator<Batch> {
  if (augmentation && !rng) throw new Error('augmentation needs a seeded rng');
  const { channels, height, width } = set;
  const plane = height * width;
  for (let start = 0; start < indices.length; start += batchSize) {
    const size = Math.min(batchSize, indices.length - start);
    const images = new Float32Array(size * channels * plane);
    const labels = new Int32Array(size);
    for (let b = 0; b < size; b++) {
      const index = indices[start + b]!;
      labels[b] = set.labels[index]!;
      const pad = augmentation?.cropPadding ?? 0;
      const dy = pad > 0 ? rng!.nextInt(2 * pad + 1) - pad : 0;
      const dx = pad > 0 ? rng!.nextInt(2 * pad + 1) - pad : 0;
      const flip = augmentation?.horizontalFlip === true && rng!.nextFloat() < 0.5;
      for (let c = 0; c < channels; c++) {
        const source = (index * channels + c) * plane;
        const target = (b * channels + c) * plane;
        const scale = 1 / (255 * norm.std[c]!);
        const shift = norm.mean[c]! / norm.std[c]!;
        for (let y = 0; y < height; y++) {
          const sy = y + dy;
          for (let x = 0; x < width; x++) {
            const sx = (flip ? width - 1 - x : x) + dx;
            const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
            // Padding is black in pixel space, i.e. normalized zero-intensity.
            const pixel = inside ? set.pixels[source + sy * width + sx]! : 0;
            images[target + y * width + x] = pixel * scale - shift;
          }
        }
      }
    }
    yield { images, labels, size };
  }
}
