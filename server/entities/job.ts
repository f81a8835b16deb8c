import { Entity, Enum, Index, ManyToOne, type Opt, Property } from '@mikro-orm/core';
import type { JobKind } from '../../executors/contract';
import { JobKind as JobKindEnum, JobState } from '../../schema/enums';
import { BaseEntity } from './base';
import { Project } from './project';

export const FINISHED_STATES: readonly JobState[] = [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED];

@Entity({ tableName: 'job' })
@Index({ properties: ['state', 'kind'] })
export class Job extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @Enum({ items: () => JobKindEnum, type: 'string' })
  kind!: JobKind;

  @Enum({ items: () => JobState, type: 'string' })
  state: Opt<JobState> = JobState.QUEUED;

  /** What the owning service prepared for the executor, ids already resolved. */
  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  @Property({ type: 'json', nullable: true })
  result: unknown = null;

  /** Last state the executor saved; a requeued attempt resumes from it. */
  @Property({ type: 'json', nullable: true })
  resumeState: unknown = null;

  @Property({ type: 'integer' })
  attempts: Opt<number> = 0;

  @Property({ type: 'integer' })
  maxAttempts: Opt<number> = 3;

  @Property({ type: 'double' })
  progress: Opt<number> = 0;

  @Property({ type: 'text', nullable: true })
  progressMessage: string | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'boolean' })
  cancelRequested: Opt<boolean> = false;

  @Property({ type: 'string', length: 100, nullable: true })
  executorName: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  backend: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  provider: string | null = null;

  @Property({ type: 'text', nullable: true })
  device: string | null = null;

  @Property({ type: 'text', nullable: true })
  executorNote: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  workerId: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  heartbeatAt: Date | null = null;

  /**
   * The current attempt's fencing token: every write a worker makes for this job must carry it, so
   * a worker presumed dead cannot write once its lease has moved on. Never shown through the API.
   */
  @Property({ type: 'string', length: 64, nullable: true, hidden: true })
  leaseToken: string | null = null;

  /** When the current lease runs out unless a heartbeat extends it; then the job is requeued. */
  @Property({ type: 'datetime', nullable: true })
  leaseExpiresAt: Date | null = null;

  /** The queue's own id for this job (pg-boss's job id on PostgreSQL; null for the table queue). */
  @Property({ type: 'string', length: 64, nullable: true })
  queueRef: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;

  /** A job that must run on one device (a latency probe's) names its fingerprint; only that device's executor claims it. */
  @Property({ type: 'string', length: 64, nullable: true })
  deviceFingerprint: string | null = null;

  /** Entity this job works on, for navigation: a supernet, trajectory or training run. */
  @Property({ type: 'string', length: 30, nullable: true })
  subjectType: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  subjectId: string | null = null;
}
