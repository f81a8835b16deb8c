import { Entity, Enum, Index, ManyToOne, type Opt, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Project } from './project';
import { SearchSpace } from './search-space';
import { SlimmingTrajectory } from './slimming';
import { Supernet } from './supernet';
import { CandidateSource } from '../../schema/enums';

/**
 * A channel configuration worth retraining, identified by a content hash of (architecture,
 * channels). Retrained accuracy is aggregated here from its runs so the leaderboard can sort on it.
 */
@Entity({ tableName: 'candidate' })
@Unique({ properties: ['searchSpace', 'configHash', 'source'] })
@Index({ properties: ['project', 'macs'] })
export class Candidate extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @ManyToOne({ entity: () => SearchSpace })
  searchSpace!: SearchSpace;

  @Property({ type: 'string', length: 64 })
  configHash!: string;

  @Property({ type: 'json' })
  channels!: number[];

  @Enum({ items: () => CandidateSource, type: 'string' })
  source!: CandidateSource;

  /** AUTOSLIM: the first trajectory that found this configuration; every trajectory that picked it has a TrajectoryPick. */
  @ManyToOne({ entity: () => SlimmingTrajectory, nullable: true })
  trajectory: SlimmingTrajectory | null = null;

  /** The budget `trajectory` selected this candidate for, in its constraint unit. */
  @Property({ type: 'double', nullable: true })
  target: number | null = null;

  @Property({ type: 'double', nullable: true })
  widthMultiplier: number | null = null;

  @Property({ type: 'double' })
  macs!: number;

  @Property({ type: 'double' })
  params!: number;

  @Property({ type: 'double', nullable: true })
  searchAccuracy: number | null = null;

  @Property({ type: 'double', nullable: true })
  predictedLatencyMs: number | null = null;

  @Property({ type: 'double', nullable: true })
  measuredLatencyMs: number | null = null;

  /** Under a latency budget: whether the measured latency came out above the target. */
  @Property({ type: 'boolean', nullable: true })
  latencyTargetMissed: boolean | null = null;

  @Property({ type: 'double', nullable: true })
  retrainedTop1Mean: number | null = null;

  @Property({ type: 'double', nullable: true })
  retrainedTop1Std: number | null = null;

  @Property({ type: 'integer' })
  retrainedRuns: Opt<number> = 0;

  /**
   * Test top-1 of this configuration sliced from the supernet `inheritedFrom`, BN recalibrated on
   * training images. It belongs to one supernet: the first to score the candidate keeps it, and
   * only a later evaluation from that same supernet replaces it (see server/jobs/job-results.ts).
   */
  @Property({ type: 'double', nullable: true })
  inheritedTop1: number | null = null;

  @ManyToOne({ entity: () => Supernet, nullable: true })
  inheritedFrom: Supernet | null = null;
}
