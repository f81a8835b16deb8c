import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ImageSet } from './images';

/** An IDX file (the MNIST format): unsigned bytes with their dimensions. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

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

export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const header = parseIdxHeader(bytes, source);
  if (header === null) throw new Error(`${source}: too short for an IDX header`);
  if (bytes.length - header.offset !== header.values) {
    throw new Error(`${source}: header says ${header.values} values, file holds ${bytes.length - header.offset}`);
  }
  return { dims: header.dims, data: bytes.subarray(header.offset) };
}

/** Reads `name` or `name.gz` from a folder. */
export function readIdx(folder: string, name: string): IdxArray {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(folder, candidate);
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    return parseIdx(candidate.endsWith('.gz') ? gunzipSync(raw) : raw, path);
  }
  throw new Error(`${folder}: missing ${name} (or ${name}.gz)`);
}

export type Split = 'train' | 'test';

/** The files one split is read from, each optionally gzipped as `<name>.gz`. */
export const IDX_FILES: Readonly<Record<Split, { readonly images: string; readonly labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** Loads one split of an MNIST-layout folder (Fashion-MNIST, MNIST, KMNIST). */
export function loadIdxSplit(folder: string, split: Split): ImageSet {
  const images = readIdx(folder, IDX_FILES[split].images);
  const labels = readIdx(folder, IDX_FILES[split].labels);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new Error(`${folder}: ${split} images have rank ${images.dims.length}; expected [N, H, W] or [N, H, W, C]`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new Error(`${folder}: ${split} has ${images.dims[0]} images but ${labels.dims[0]} labels`);
  }
  const [count, height, width, channels = 1] = images.dims as [number, number, number, number?];
  return { count, channels, height, width, pixels: toChannelsFirst(images.data, count, height, width, channels), labels: labels.data };
}

function toChannelsFirst(hwc: Uint8Array, n: number, h: number, w: number, c: number): Uint8Array {
  if (c === 1) return hwc;
  const out = new Uint8Array(hwc.length);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) out[i * plane * c + k * plane + p] = hwc[(i * plane + p) * c + k]!;
    }
  }
  return out;
}
