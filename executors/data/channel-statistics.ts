import type { ImageSet } from './images';
import type { Normalization } from './sample';

/** Per-channel mean and standard deviation of pixels scaled to [0, 1] over a set held in memory. */
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

/**
 * Per-channel mean and standard deviation of pixels scaled to [0, 1], accumulated an image at a
 * time so a dataset never has to be in memory at once. Sums run image by image and pixel by pixel
 * in each channel, the order `channelStatistics` sums in, so the figures are the same to the bit.
 */
export class ChannelStatistics {
  private readonly sums: number[];
  private readonly squares: number[];
  private pixels = 0;
  images = 0;

  constructor(readonly channels: number) {
    this.sums = new Array<number>(channels).fill(0);
    this.squares = new Array<number>(channels).fill(0);
  }

  /** One image of `plane` pixels, planar (`chw`) or interleaved (`hwc`) with `this.channels` channels. */
  add(data: ArrayLike<number>, plane: number, layout: 'chw' | 'hwc'): void {
    const channels = this.channels;
    for (let c = 0; c < channels; c++) {
      let sum = this.sums[c]!;
      let squares = this.squares[c]!;
      for (let p = 0; p < plane; p++) {
        const v = data[layout === 'chw' ? c * plane + p : p * channels + c]! / 255;
        sum += v;
        squares += v * v;
      }
      this.sums[c] = sum;
      this.squares[c] = squares;
    }
    this.pixels += plane;
    this.images++;
  }

  result(): Normalization {
    const n = Math.max(1, this.pixels);
    return {
      mean: this.sums.map((sum) => sum / n),
      std: this.sums.map((sum, c) => Math.sqrt(Math.max(this.squares[c]! / n - (sum / n) ** 2, 1e-12))),
    };
  }
}

/** The gray version of an RGB image, as PIL's "L" mode makes it (ITU-R 601-2 luma), unrounded. */
export function luminance(data: Uint8Array, plane: number, layout: 'chw' | 'hwc'): Float32Array {
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    const [r, g, b] = layout === 'chw' ? [data[p]!, data[plane + p]!, data[2 * plane + p]!] : [data[3 * p]!, data[3 * p + 1]!, data[3 * p + 2]!];
    out[p] = (r * 299 + g * 587 + b * 114) / 1000;
  }
  return out;
}
