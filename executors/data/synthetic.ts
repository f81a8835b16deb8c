import { Rng } from '../rng';
import type { ImageSet } from './images';

export interface SyntheticSpec {
  readonly numClasses: number;
  readonly channels: number;
  readonly size: number;
  readonly seed: number;
}

/**
 * A learnable dataset made on the fly: each class is a fixed random blob pattern, each image that
 * pattern shifted by up to two pixels plus noise. Image i of a split is the same on every call, so
 * tests need no files and still train to well above chance.
 */
export function syntheticImages(spec: SyntheticSpec, split: 'train' | 'test', count: number): ImageSet {
  const { numClasses, channels, size } = spec;
  const plane = size * size;
  const templates = Array.from({ length: numClasses }, (_, c) => classTemplate(spec, c));
  const pixels = new Uint8Array(count * channels * plane);
  const labels = new Uint8Array(count);
  const rng = new Rng((spec.seed * 2 + (split === 'train' ? 0 : 1)) >>> 0);
  for (let i = 0; i < count; i++) {
    const label = rng.nextInt(numClasses);
    labels[i] = label;
    const dy = rng.nextInt(5) - 2;
    const dx = rng.nextInt(5) - 2;
    const template = templates[label]!;
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const sy = Math.min(size - 1, Math.max(0, y + dy));
          const sx = Math.min(size - 1, Math.max(0, x + dx));
          const value = template[c * plane + sy * size + sx]! + rng.nextNormal() * 25;
          pixels[i * channels * plane + c * plane + y * size + x] = Math.min(255, Math.max(0, Math.round(value)));
        }
      }
    }
  }
  return { count, channels, height: size, width: size, pixels, labels };
}

function classTemplate(spec: SyntheticSpec, label: number): Float32Array {
  const { channels, size } = spec;
  const rng = new Rng((spec.seed * 7919 + label * 104729 + 1) >>> 0);
  const blobs = Array.from({ length: 3 }, () => ({ y: rng.nextFloat() * size, x: rng.nextFloat() * size, r: size / 6 + rng.nextFloat() * (size / 5) }));
  const out = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const near = blobs.some((b) => (y - b.y) ** 2 + (x - b.x) ** 2 < b.r ** 2);
        out[c * size * size + y * size + x] = near ? 200 : 30;
      }
    }
  }
  return out;
}
