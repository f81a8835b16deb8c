import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Artifact } from './artifact';
import { BaseEntity } from './base';
import { Candidate } from './candidate';
import { Device } from './device';
import { SearchSpace } from './search-space';

export interface ValidationRow {
  channels: number[];
  predictedMs: number;
  measuredMs: number;
}

/**
 * A latency lookup table of one search space on one device; the blocks are in the artifact, the
 * figures a user compares tables by are here. Versions count up per device and search space.
 */
@Entity({ tableName: 'latency_table' })
@Unique({ properties: ['device', 'searchSpace', 'version'] })
export class LatencyTable extends BaseEntity {
  @ManyToOne({ entity: () => Device })
  device!: Device;

  @ManyToOne({ entity: () => SearchSpace })
  searchSpace!: SearchSpace;

  @Property({ type: 'integer' })
  version!: number;

  /** The PROFILE_LATENCY job that built it; a resumed job reports its table once. */
  @Property({ type: 'uuid', unique: true })
  jobId!: string;

  @ManyToOne({ entity: () => Artifact })
  artifact!: Artifact;

  @Property({ type: 'integer' })
  batchSize!: number;

  @Property({ type: 'integer' })
  threads!: number;

  @Property({ type: 'integer', nullable: true })
  gridPoints: number | null = null;

  @Property({ type: 'integer' })
  rounds!: number;

  @Property({ type: 'integer' })
  blocks!: number;

  @Property({ type: 'integer' })
  measurements!: number;

  @Property({ type: 'double' })
  emptyModelMs!: number;

  @Property({ type: 'double' })
  overheadMs!: number;

  @Property({ type: 'double' })
  scale!: number;

  @Property({ type: 'integer' })
  calibrationConfigs!: number;

  @Property({ type: 'double' })
  buildSeconds!: number;

  @Property({ type: 'double' })
  predictedMinMs!: number;

  @Property({ type: 'double' })
  predictedMaxMs!: number;

  @Property({ type: 'integer' })
  validationConfigs!: number;

  @Property({ type: 'double' })
  mape!: number;

  @Property({ type: 'double' })
  within5!: number;

  @Property({ type: 'double' })
  within10!: number;

  @Property({ type: 'double' })
  uncalibratedMape!: number;

  @Property({ type: 'json' })
  validationRows!: ValidationRow[];
}

/** One timed configuration on one device: a measureLatency job, or a trajectory's candidate. */
@Entity({ tableName: 'latency_measurement' })
@Index({ properties: ['candidate'] })
export class LatencyMeasurement extends BaseEntity {
  @ManyToOne({ entity: () => Device })
  device!: Device;

  @ManyToOne({ entity: () => SearchSpace })
  searchSpace!: SearchSpace;

  @ManyToOne({ entity: () => Candidate, nullable: true, deleteRule: 'cascade' })
  candidate: Candidate | null = null;

  @Property({ type: 'uuid', unique: true })
  jobId!: string;

  @Property({ type: 'string', length: 64 })
  configHash!: string;

  @Property({ type: 'json' })
  channels!: number[];

  @Property({ type: 'integer' })
  batchSize!: number;

  @Property({ type: 'double' })
  medianMs!: number;

  @Property({ type: 'double' })
  p10Ms!: number;

  @Property({ type: 'double' })
  p90Ms!: number;

  @Property({ type: 'double' })
  meanMs!: number;

  @Property({ type: 'double' })
  stdMs!: number;

  @Property({ type: 'integer' })
  warmupRuns!: number;

  @Property({ type: 'integer' })
  timedRuns!: number;

  @Property({ type: 'integer' })
  attempts!: number;

  @Property({ type: 'boolean' })
  noisy!: boolean;

  @Property({ type: 'double', nullable: true })
  predictedMs: number | null = null;

  @Property({ type: 'double', nullable: true })
  undisturbedMs: number | null = null;
}
