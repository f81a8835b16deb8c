import type { BlobRef } from '../contract';
import type { DatasetNormalization } from './manifest';

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
