import type { EntityManager } from '@mikro-orm/knex';
import type { JobKind } from '../../executors/contract';
import { JobState } from '../../schema/enums';
import { Job, type Project } from '../entities';
import type { JobQueue } from './queue';

export interface NewJob {
  readonly project: Project;
  readonly kind: JobKind;
  readonly payload: Record<string, unknown>;
  readonly subjectType: string;
  readonly subjectId: string;
  /** Only the latency probe of this device may run it. */
  readonly deviceFingerprint?: string;
}

/**
 * Adds a job to the caller's transaction and queues it there too, so a job exists in the queue
 * exactly when its rows committed. Publish it once the transaction has committed.
 */
export async function queueJob(em: EntityManager, queue: JobQueue, spec: NewJob): Promise<Job> {
  const job = em.create(Job, { ...spec, deviceFingerprint: spec.deviceFingerprint ?? null, state: JobState.QUEUED });
  await em.flush();
  await queue.enqueue(em, job);
  return job;
}
