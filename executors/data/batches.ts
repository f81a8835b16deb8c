import { Rng } from '../rng';
import type { ImageSet } from './images';
import type { Normalization } from './sample';

export type { Normalization } from './sample';

export function channelStatistics(set: ImageSet): Normalization {
  const plane = set.height * set.width;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < set.channels; c++) {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < set.count; i++) {
      const base = (i * set.channels + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = set.pixels[base + p]! / 255;
        sum += v;
        squares += v * v;
      }
    }
    const n = set.count * plane;
    mean.push(sum / n);
    std.push(Math.sqrt(Math.max(squares / n - (sum / n) ** 2, 1e-12)));
  }
  return { mean, std };
}

export interface Augmentation {
  /** Zero padding before a random crop back to the original size; 0 turns cropping off. */
  readonly cropPadding: number;
  readonly horizontalFlip: boolean;
}

export const NO_AUGMENTATION: Augmentation = { cropPadding: 0, horizontalFlip: false };

export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
}

/**
 * Normalized (and optionally augmented) batches of `indices` in order; the last batch may be
 * smaller. Augmentation draws from `rng`, so a seeded run sees the same crops every time.
 */
export function* batches(
  set: ImageSet,
  indices: ArrayLike<number>,
  batchSize: number,
  norm: Normalization,
  augmentation: Augmentation = NO_AUGMENTATION,
  rng?: Rng,
): Generator<Batch> {
  if (augmentation !== NO_AUGMENTATION && !rng) throw new Error('augmentation needs a seeded rng');
  const { channels, height, width } = set;
  const plane = height * width;
  for (let start = 0; start < indices.length; start += batchSize) {
    const size = Math.min(batchSize, indices.length - start);
    const images = new Float32Array(size * channels * plane);
    const labels = new Int32Array(size);
    for (let b = 0; b < size; b++) {
      const index = indices[start + b]!;
      labels[b] = set.labels[index]!;
      const pad = augmentation.cropPadding;
      const dy = pad > 0 ? rng!.nextInt(2 * pad + 1) - pad : 0;
      const dx = pad > 0 ? rng!.nextInt(2 * pad + 1) - pad : 0;
      const flip = augmentation.horizontalFlip && rng!.nextFloat() < 0.5;
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
