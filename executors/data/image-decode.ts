import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

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

export function isGray(image: Rgba): boolean {
  for (let p = 0; p < image.width * image.height; p++) {
    const r = image.data[p * 4];
    if (image.data[p * 4 + 1] !== r || image.data[p * 4 + 2] !== r) return false;
  }
  return true;
}
