/** Labelled images in NCHW layout, pixel values 0–255, as every loader returns them. */
export interface ImageSet {
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
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
