import { Entity, Enum, ManyToOne, type Opt, Property, Unique } from '@mikro-orm/core';
import type { SlimmingProposalReport } from '../../executors/contract';
import { BaseEntity } from './base';
import { LatencyTable } from './latency';
import { Project } from './project';
import { Supernet } from './supernet';
import { CostConstraint, BnMode, Scoring } from '../../schema/enums';

/** One greedy walk of a supernet under a cost constraint. */
@Entity({ tableName: 'slimming_trajectory' })
export class SlimmingTrajectory extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @ManyToOne({ entity: () => Supernet })
  supernet!: Supernet;

  @Enum({ items: () => CostConstraint, type: 'string' })
  constraint!: CostConstraint;

  /** Budgets in the constraint's unit, largest first. */
  @Property({ type: 'json' })
  targets!: number[];

  /** The table whose predictions were the cost, under a latency budget. */
  @ManyToOne({ entity: () => LatencyTable, nullable: true })
  latencyTable: LatencyTable | null = null;

  @Property({ type: 'integer' })
  evalBatchSize!: number;

  @Property({ type: 'integer' })
  evalSeed!: number;

  @Property({ type: 'integer' })
  evalBatches: Opt<number> = 1;

  @Enum({ items: () => BnMode, type: 'string' })
  bnMode!: BnMode;

  /** RECALIBRATED: the training images each proposal's BN statistics were re-estimated on; null under BATCH_STATS. */
  @Property({ type: 'integer', nullable: true })
  calibrationImages: number | null = null;

  @Property({ type: 'integer', nullable: true })
  calibrationSeed: number | null = null;

  @Property({ type: 'double' })
  minWidthFraction: Opt<number> = 0;

  @Enum({ items: () => Scoring, type: 'string' })
  scoring!: Scoring;

  @Property({ type: 'integer' })
  evaluations: Opt<number> = 0;

  @Property({ type: 'integer' })
  cacheHits: Opt<number> = 0;

  @Property({ type: 'double' })
  evalSeconds: Opt<number> = 0;
}

/** One greedy step: the unit slimmed, the config reached, its cost and score, every proposal's score. */
@Entity({ tableName: 'slimming_step' })
@Unique({ properties: ['trajectory', 'index'] })
export class SlimmingStep extends BaseEntity {
  @ManyToOne({ entity: () => SlimmingTrajectory, deleteRule: 'cascade' })
  trajectory!: SlimmingTrajectory;

  @Property({ type: 'integer' })
  index!: number;

  @Property({ type: 'integer', nullable: true })
  unitIndex: number | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  unitName: string | null = null;

  @Property({ type: 'json' })
  channels!: number[];

  @Property({ type: 'double' })
  macs!: number;

  @Property({ type: 'double' })
  params!: number;

  @Property({ type: 'double', nullable: true })
  predictedLatencyMs: number | null = null;

  @Property({ type: 'double' })
  score!: number;

  @Property({ type: 'double' })
  accuracy!: number;

  @Property({ type: 'double' })
  accuracyDrop!: number;

  @Property({ type: 'json' })
  proposals!: SlimmingProposalReport[];
}
