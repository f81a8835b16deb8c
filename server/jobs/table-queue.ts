import type { EntityManager } from '@mikro-orm/knex';
import type { JobKind } from '../../executors/contract';
import { JobState } from '../../schema/enums';
import { Job } from '../entities';
import type { JobQueue } from './queue';

/**
 * The job table is the queue (the embedded SQLite default): QUEUED rows, oldest first. SQLite
 * serializes writers, so the caller's conditional update is the whole claim.
 */
export class TableQueue implements JobQueue {
  async enqueue(): Promise<void> {}

  async reserve(em: EntityManager, kinds: readonly JobKind[], devices: readonly string[]): Promise<string | null> {
    const bound = devices.map((fingerprint) => ({ deviceFingerprint: fingerprint }));
    const next = await em.findOne(
      Job,
      { state: JobState.QUEUED, kind: { $in: [...kinds] }, $or: [{ deviceFingerprint: null }, ...bound] },
      { orderBy: { createdAt: 'asc', id: 'asc' }, fields: ['id'] },
    );
    return next?.id ?? null;
  }

  async lineOrder(em: EntityManager): Promise<string[]> {
    const queued = await em.find(Job, { state: JobState.QUEUED }, { orderBy: { createdAt: 'asc', id: 'asc' }, fields: ['id'] });
    return queued.map((job) => job.id);
  }

  async settle(): Promise<void> {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
