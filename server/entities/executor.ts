import { Entity, type Opt, Property } from '@mikro-orm/core';
import type { JobKind } from '../../executors/contract';
import { BaseEntity } from './base';

/** A registered plugin instance, with what it found it can run on and when it was last seen. */
@Entity({ tableName: 'executor' })
export class Executor extends BaseEntity {
  @Property({ type: 'string', length: 100 })
  name!: string;

  @Property({ type: 'string', length: 100 })
  workerId!: string;

  @Property({ type: 'json' })
  kinds!: JobKind[];

  @Property({ type: 'string', length: 100 })
  backend!: string;

  @Property({ type: 'string', length: 100 })
  provider!: string;

  @Property({ type: 'text' })
  device!: string;

  @Property({ type: 'json' })
  versions!: Record<string, string>;

  @Property({ type: 'text', nullable: true })
  note: string | null = null;

  /** A latency probe's device: jobs bound to it are offered only to this executor. */
  @Property({ type: 'string', length: 64, nullable: true })
  latencyFingerprint: string | null = null;

  @Property({ type: 'string', length: 255 })
  host!: string;

  @Property({ type: 'integer' })
  pid!: number;

  @Property({ type: 'datetime' })
  lastSeenAt: Opt<Date> = new Date();

  @Property({ type: 'boolean' })
  online: Opt<boolean> = true;
}
