import type { EntityManager } from '@mikro-orm/knex';
import type { BlobRef } from '../../executors/contract';
import type { RegisteredDatasetSpec } from '../../executors/data/source';
import type { SearchSpaceSpec } from '../../executors/search-space';
import { BnMode, JobKind } from '../../schema/enums';
import { type Candidate, type Job, Supernet } from '../entities';
import { queueJob } from '../jobs/new-job';
import type { JobQueue } from '../jobs/queue';
import { datasetSpec } from './dataset-service';
import { evalCropRatioOf } from './export-service';
import { searchSpaceSpec } from './search-space-service';

/*
 * EVALUATE jobs score configurations sliced (first-k) from a supernet checkpoint. The executor
 * (executors/onnx/evaluate-plugin.ts) defines this payload and result too; they are typed here as
 * the server writes and reads them.
 */

export type EvaluationSplit = 'SEARCH' | 'TEST';

export interface EvaluationSettings {
  readonly split: EvaluationSplit;
  readonly bnModes: readonly BnMode[];
  /** SEARCH: the same seeded hold-out batches as SLIM; TEST: the whole test split in batches of this size. */
  readonly evalBatchSize: number;
  readonly evalSeed: number;
  readonly evalBatches: number;
  readonly calibrationImages: number;
  readonly calibrationSeed: number;
}

export interface EvaluatePayload extends EvaluationSettings {
  readonly searchSpace: SearchSpaceSpec;
  readonly dataset: RegisteredDatasetSpec;
  readonly evalCropRatio?: number;
  readonly checkpoint: BlobRef;
  /** Keyed by candidate id. */
  readonly configs: readonly { readonly key: string; readonly channels: readonly number[] }[];
}

export interface EvaluationScore {
  readonly key: string;
  readonly bnMode: BnMode;
  readonly top1: number;
  readonly loss: number;
  readonly images: number;
}

export interface EvaluateResult {
  readonly results: readonly EvaluationScore[];
  readonly provider: string;
  readonly evalSeconds: number;
}

const INHERITED_BATCH_SIZE = 1024;

/** Inherited accuracy: test top-1 with BN recalibrated on 1,024 seeded training images. */
export function inheritedSettings(testSize: number): EvaluationSettings {
  return {
    split: 'TEST',
    bnModes: [BnMode.RECALIBRATED],
    evalBatchSize: INHERITED_BATCH_SIZE,
    // The test split is read whole, in order: these only say how many batches that is.
    evalSeed: 0,
    evalBatches: Math.max(1, Math.ceil(testSize / INHERITED_BATCH_SIZE)),
    calibrationImages: 1024,
    calibrationSeed: 0,
  };
}

/** What an EVALUATE job of `candidates` sliced from `supernet` (search space, dataset and run loaded) is told. */
export async function evaluatePayload(
  em: EntityManager,
  supernet: Supernet,
  checkpoint: BlobRef,
  candidates: readonly Candidate[],
  settings: EvaluationSettings,
): Promise<EvaluatePayload> {
  return {
    searchSpace: searchSpaceSpec(supernet.searchSpace),
    dataset: await datasetSpec(em, supernet.dataset),
    evalCropRatio: evalCropRatioOf(supernet.run.recipe),
    checkpoint: { uri: checkpoint.uri, sha256: checkpoint.sha256 },
    configs: candidates.map((c) => ({ key: c.id, channels: c.channels })),
    ...settings,
  };
}

/**
 * Queues the EVALUATE job that gives `candidates` their inherited accuracy from `supernet`, in the
 * caller's transaction; null when there are none. Its subject is the supernet, which is how its
 * result is told from a ranking study's (server/jobs/job-results.ts).
 */
export async function queueInheritedAccuracy(
  em: EntityManager,
  queue: JobQueue,
  supernet: Supernet,
  checkpoint: BlobRef,
  candidates: readonly Candidate[],
): Promise<Job | null> {
  if (candidates.length === 0) return null;
  const payload = await evaluatePayload(em, supernet, checkpoint, candidates, inheritedSettings(supernet.dataset.testSize));
  return queueJob(em, queue, {
    project: supernet.project,
    kind: JobKind.EVALUATE,
    payload: { ...payload },
    subjectType: Supernet.name,
    subjectId: supernet.id,
  });
}
