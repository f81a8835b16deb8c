/** Labelled images in NCHW layout, pixel values 0–255, held in memory (a SYNTHETIC dataset's). */
export interface ImageSet {
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}
