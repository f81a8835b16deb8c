/**
 * The vocabulary the streamed loader shares with its decoder threads: where a sample's pixels are,
 * what one decoded image looks like, and what to make of it for one batch.
 */

/** Where one sample's pixels are; paths are absolute on the machine that reads them. */
export type SampleRef =
  /** A PNG or JPEG file, decoded on demand. */
  | { readonly kind: 'image'; readonly path: string; readonly png: boolean }
  /** Raw planar (CHW) bytes of `shape` at `offset` of an uncompressed file (IDX, CIFAR records). */
  | { readonly kind: 'record'; readonly path: string; readonly offset: number; readonly shape: ImageShape }
  /** Raw planar bytes of `shape` at `offset` of a buffer handed to the decoder pool when it started. */
  | { readonly kind: 'shared'; readonly buffer: number; readonly offset: number; readonly shape: ImageShape };

export interface ImageShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** A decoded image, planar (CHW), 0–255; gray images have one channel, colour ones three. */
export interface Planar extends ImageShape {
  readonly data: Uint8Array;
}

/** A rectangle in source pixels; edges may be fractional (a centre crop of an odd-sized image). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * What one sample becomes in a batch. `copy`: the image is already the output size and is shifted
 * by (dy, dx) with zero padding where the shift uncovers it (random crop with padding; 0, 0 for
 * evaluation). `resample`: `box` of the image is resized to the output size (random-resized-crop
 * for training, resize-and-centre-crop for evaluation). Both may mirror the result left to right.
 */
export type SamplePlan =
  | { readonly kind: 'copy'; readonly dy: number; readonly dx: number; readonly flip: boolean }
  | { readonly kind: 'resample'; readonly box: Box; readonly flip: boolean };

/** Per-channel mean and standard deviation of pixel values scaled to [0, 1]. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}
