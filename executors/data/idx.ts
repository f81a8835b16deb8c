/** The only IDX element type read: MNIST-layout images and labels are unsigned bytes. */
const UNSIGNED_BYTE = 0x08;

export interface IdxHeader {
  readonly dims: readonly number[];
  /** Where the values start. */
  readonly offset: number;
  /** How many values (bytes) follow the header: the product of the dimensions. */
  readonly values: number;
}

/** The header at the start of `bytes`, or null while `bytes` is too short to hold all of it. */
export function parseIdxHeader(bytes: Uint8Array, source: string): IdxHeader | null {
  if (bytes.length < 4) return null;
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${source}: not an IDX file (bad magic number)`);
  if (bytes[2] !== UNSIGNED_BYTE) throw new Error(`${source}: IDX element type 0x${bytes[2]!.toString(16)} is not unsigned byte`);
  const rank = bytes[3]!;
  const offset = 4 + 4 * rank;
  if (bytes.length < offset) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dims, offset, values: dims.reduce((a, b) => a * b, 1) };
}

export type Split = 'train' | 'test';

/** The files one split is read from, each optionally gzipped as `<name>.gz`. */
export const IDX_FILES: Readonly<Record<Split, { readonly images: string; readonly labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};
