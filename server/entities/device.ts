import { Entity, type Opt, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';

/**
 * Where latency was measured: a machine with one runtime setup. A probe registers its device when
 * its worker starts; the fingerprint makes a probe on another host, provider or thread count
 * another device.
 */
@Entity({ tableName: 'device' })
export class Device extends BaseEntity {
  @Property({ type: 'string', length: 64, unique: true })
  fingerprint!: string;

  @Property({ type: 'string', length: 255 })
  host!: string;

  @Property({ type: 'string', length: 255 })
  cpuModel!: string;

  @Property({ type: 'integer' })
  cores!: number;

  @Property({ type: 'integer' })
  threads!: number;

  @Property({ type: 'string', length: 100 })
  runtime!: string;

  @Property({ type: 'string', length: 100 })
  provider!: string;

  @Property({ type: 'string', length: 255 })
  os!: string;

  @Property({ type: 'json' })
  versions!: Record<string, string>;

  @Property({ type: 'string', length: 100, nullable: true })
  affinity: string | null = null;

  @Property({ type: 'text', nullable: true })
  note: string | null = null;

  @Property({ type: 'datetime' })
  lastSeenAt: Opt<Date> = new Date();
}
