import type { EntityManager } from '@mikro-orm/knex';
import type { BlobRef } from '../../executors/contract';
import type { EvaluatePayload } from '../../executors/onnx/evaluate-plugin';
import { BnMode, JobKind } from '../../schema/enums';
import { type Candidate, type Job, Supernet } from '../entities';
import { queueJob } from '../jobs/new-job';
import type { JobQueue } from '../jobs/queue';
import { datasetSpec } from './dataset-service';
import { evalCropRatioOf } from './export-service';
import { searchSpaceSpec } from './search-space-service';

/*
 * EVALUATE jobs score configurations sliced (first-k) from a supernet checkpoint; their payload and
 * result are the executor's (executors/onnx/evaluate-plugin.ts). Configs are keyed by candidate id.
 */

/** How an EVALUATE job scores: everything in its payload but the network, data and weights. */
export type EvaluationSettings = Omit<EvaluatePayload, 'searchSpace' | 'dataset' | 'evalCropRatio' | 'checkpoint' | 'configs'>;

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
