import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Planar } from './sample';

/** Decoded pixels, four bytes (RGBA) each, as both decoders return them; gray images have R = G = B. */
export interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Decodes a PNG or JPEG; throws an Error whose message names neither the file nor its folder. */
export function decodeImage(bytes: Buffer, isPng: boolean): Rgba {
  try {
    if (isPng) return PNG.sync.read(bytes);
    return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (error) {
    throw new Error(`cannot decode the image (${(error as Error).message})`);
  }
}

/** Planar pixels: one channel when the image is gray, three (R, G, B) when it is in colour; alpha is dropped. */
export function toPlanar(image: Rgba): Planar {
  const plane = image.width * image.height;
  const channels = isGray(image) ? 1 : 3;
  const data = new Uint8Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane; p++) data[c * plane + p] = image.data[p * 4 + c]!;
  }
  return { channels, height: image.height, width: image.width, data };
}

export function isGray(image: Rgba): boolean {
  for (let p = 0; p < image.width * image.height; p++) {
    const r = image.data[p * 4];
    if (image.data[p * 4 + 1] !== r || image.data[p * 4 + 2] !== r) return false;
  }
  return true;
}
