import { isGray, type Rgba } from './image-decode';
import type { Planar } from './sample';

/** A decoder's RGBA pixels as planar bytes: one channel when every pixel is gray, else R, G and B; alpha is dropped. */
export function toPlanar(image: Rgba): Planar {
  const { width, height } = image;
  const channels = isGray(image) ? 1 : 3;
  const plane = width * height;
  const data = new Uint8Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane; p++) data[c * plane + p] = image.data[p * 4 + c]!;
  }
  return { channels, height, width, data };
}
