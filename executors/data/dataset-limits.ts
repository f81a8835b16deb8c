/** Bounds on what reading a dataset may cost, checked from headers before anything large is read. */
export interface DatasetLimits {
  /** The most bytes one file may hold once decompressed, whatever its header claims. */
  readonly maxFileBytes: number;
  /** The widest or tallest image accepted. */
  readonly maxImageSide: number;
}
