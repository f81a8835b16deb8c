import type { EntityManager } from '@mikro-orm/knex';
import type { JobKind } from '../../executors/contract';
import type { Job } from '../entities';

/**
 * Why a job left the state it was in, as the queue needs to mirror it. The `Job` row is the system
 * of record and the ledger decides every transition; a queue only mirrors it in its own bookkeeping.
 */
export type QueueTransition =
  /** Terminal. */
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  /** Back to QUEUED: its worker stopped gracefully (no attempt counted against it). */
  | 'released'
  /** Back to QUEUED: its lease ran out (a failed attempt; the queue retries it). */
  | 'expired'
  /** Terminal: its lease ran out and it has no attempts left (the queue's dead-letter state). */
  | 'exhausted'
  /** Back to QUEUED from FAILED or CANCELLED: a user asked for a retry. */
  | 'retried';

/**
 * Where queued work waits. The table queue (SQLite) finds QUEUED rows of the job table itself;
 * pg-boss (PostgreSQL) keeps its own queue in the same database. Every method runs inside the
 * caller's transaction (`em`), so a job is queued, claimed or settled together with its rows.
 */
export interface JobQueue {
  /** Queues a job whose row `em` has just persisted (flushed); may set `job.queueRef`. */
  enqueue(em: EntityManager, job: Job): Promise<void>;
  /**
   * Reserves the oldest queued job of one of these kinds that is not bound to a device, or bound
   * to one of `devices`. The caller moves its row QUEUED → RUNNING in the same transaction.
   */
  reserve(em: EntityManager, kinds: readonly JobKind[], devices: readonly string[]): Promise<string | null>;
  /**
   * The ids of the queued jobs in the order `reserve` hands them out to an executor that may run
   * them all, first first: what a job's place in line is counted in.
   */
  lineOrder(em: EntityManager): Promise<string[]>;
  /** Mirrors a transition the ledger made to `job` (already changed, not yet committed). */
  settle(em: EntityManager, job: Job, transition: QueueTransition): Promise<void>;
  /** Called once at start-up and shut-down. */
  start(): Promise<void>;
  stop(): Promise<void>;
}
