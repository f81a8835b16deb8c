import { Entity, Enum, Index, ManyToOne, type Opt, Property, Unique } from '@mikro-orm/core';
import { AttemptOutcome } from '../../schema/enums';
import { BaseEntity } from './base';
import { Job } from './job';

/** One lease of a job: which worker held it, from when to when, and how it ended. */
@Entity({ tableName: 'job_attempt' })
@Unique({ properties: ['job', 'attempt'] })
@Index({ properties: ['workerId'] })
export class JobAttempt extends BaseEntity {
  @ManyToOne({ entity: () => Job, deleteRule: 'cascade' })
  job!: Job;

  @Property({ type: 'integer' })
  attempt!: number;

  @Property({ type: 'string', length: 100 })
  workerId!: string;

  @Property({ type: 'string', length: 100 })
  executorName!: string;

  @Property({ type: 'datetime' })
  claimedAt!: Date;

  @Property({ type: 'datetime' })
  leaseExpiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  endedAt: Date | null = null;

  @Enum({ items: () => AttemptOutcome, type: 'string' })
  outcome: Opt<AttemptOutcome> = AttemptOutcome.RUNNING;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;
}
