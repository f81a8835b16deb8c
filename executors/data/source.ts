import type { BlobRef } from '../contract';
import type { DatasetNormalization } from './manifest';
import { loadCifarSplit } from './cifar';
import type { ImageSet } from './images';
import { loadIdxSplit } from './idx';
import { loadImageFolderSplit } from './image-folder';
import { searchSplit, type SearchSplit } from './split';
import { subset } from './images';
import { syntheticImages } from './synthetic';

/** What an executor is told about a dataset: the fields of the Dataset entity it needs. */
export interface DatasetSpec {
  readonly format: 'IDX' | 'IMAGE_FOLDER' | 'CIFAR' | 'SYNTHETIC';
  readonly uri: string;
  readonly inputChannels: number;
  readonly inputHeight: number;
  readonly numClasses: number;
  readonly trainSize: number;
  readonly testSize: number;
  readonly searchFraction: number;
  readonly splitSeed: number;
  /** The digest of the search split made at registration; jobs queued before it was sent lack it. */
  readonly splitDigest?: string | null;
  /** The sample manifest made at registration; null for SYNTHETIC, and for datasets registered before manifests. */
  readonly manifest?: BlobRef | null;
  /** Statistics computed at registration; null where there is no manifest. */
  readonly normalization?: DatasetNormalization | null;
  /** Unreadable images are skipped and counted instead of failing the job. */
  readonly skipCorrupt?: boolean;
}

/** A dataset as job payloads name it: a remote worker fetches its files from the server by `id`. */
export interface RegisteredDatasetSpec extends DatasetSpec {
  readonly id: string;
}

/** The three disjoint sets one search uses: train (supernet), search (hold-out) and test (retraining). */
export interface DatasetSplits {
  readonly train: ImageSet;
  readonly search: ImageSet;
  readonly test: ImageSet;
  readonly split: SearchSplit;
}

export function loadDataset(spec: DatasetSpec): DatasetSplits {
  const full = loadFull(spec, 'train');
  if (full.count !== spec.trainSize) throw new Error(`dataset at ${spec.uri} has ${full.count} training images, ${spec.trainSize} were registered`);
  const split = searchSplit(full.count, spec.searchFraction, spec.splitSeed);
  // The hold-out must be the one the dataset was registered with, or search and retraining would
  // silently score on different images than every earlier run of this dataset.
  if (spec.splitDigest && split.digest !== spec.splitDigest) {
    throw new Error(
      `the search split of the dataset does not match the one made when it was registered (digest ${split.digest.slice(0, 12)}… against ${spec.splitDigest.slice(0, 12)}…); register the dataset again`,
    );
  }
  return { train: subset(full, split.trainIndices), search: subset(full, split.searchIndices), test: loadFull(spec, 'test'), split };
}

function loadFull(spec: DatasetSpec, which: 'train' | 'test'): ImageSet {
  if (spec.format === 'IDX') return loadIdxSplit(spec.uri, which);
  if (spec.format === 'IMAGE_FOLDER') return loadImageFolderSplit(spec.uri, which, spec.inputChannels);
  if (spec.format === 'CIFAR') return loadCifarSplit(spec.uri, which);
  return syntheticImages(
    { numClasses: spec.numClasses, channels: spec.inputChannels, size: spec.inputHeight, seed: spec.splitSeed },
    which,
    which === 'train' ? spec.trainSize : spec.testSize,
  );
}
