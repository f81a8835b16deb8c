import { Entity, type Opt, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';

/** A worker process: where it runs, what it runs, and when it was last heard from. */
@Entity({ tableName: 'worker' })
export class WorkerNode extends BaseEntity {
  @Property({ type: 'string', length: 255 })
  host!: string;

  @Property({ type: 'integer' })
  pid!: number;

  @Property({ type: 'string', length: 50 })
  version!: string;

  /** Plugin names in preference order. */
  @Property({ type: 'json' })
  plugins!: string[];

  @Property({ type: 'integer' })
  concurrency!: number;

  @Property({ type: 'datetime' })
  lastHeartbeatAt: Opt<Date> = new Date();

  /** Set when the worker said goodbye (graceful stop); a crashed worker is offline by its heartbeat. */
  @Property({ type: 'datetime', nullable: true })
  stoppedAt: Date | null = null;
}
