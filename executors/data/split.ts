import { createHash } from 'node:crypto';
import { Rng } from '../rng';

/** The training images split into what the supernet trains on and what the search evaluates on. */
export interface SearchSplit {
  readonly searchIndices: Uint32Array;
  readonly trainIndices: Uint32Array;
  /** sha256 of the sorted search indices as little-endian uint32: equal digests, equal splits. */
  readonly digest: string;
}

/**
 * The digest a dataset's split is stored and checked by: the hold-out's indices and, for a dataset
 * with a sample manifest, the manifest's sha256, so the same indices over other samples differ.
 */
export function splitDigest(split: SearchSplit, manifestSha256: string | null): string {
  if (manifestSha256 === null) return split.digest;
  return createHash('sha256').update(split.digest).update(manifestSha256).digest('hex');
}

/**
 * Holds out `fraction` of the training images by a seeded shuffle, as the reference holds out
 * 50,000 ImageNet training images, so the search never sees test data.
 */
export function searchSplit(trainSize: number, fraction: number, seed: number): SearchSplit {
  if (!Number.isInteger(trainSize) || trainSize < 2) throw new Error(`trainSize must be an integer ≥ 2, got ${trainSize}`);
  if (!(fraction > 0 && fraction < 1)) throw new Error(`searchFraction must be in (0, 1), got ${fraction}`);
  const order = new Rng(seed >>> 0).permutation(trainSize);
  const held = Math.min(trainSize - 1, Math.max(1, Math.round(trainSize * fraction)));
  const searchIndices = order.slice(0, held).sort();
  const trainIndices = order.slice(held).sort();
  const digest = createHash('sha256')
    .update(Buffer.from(searchIndices.buffer, searchIndices.byteOffset, searchIndices.byteLength))
    .digest('hex');
  return { searchIndices, trainIndices, digest };
}
