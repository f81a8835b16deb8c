import { Entity, Enum, ManyToOne, type Opt, Property, Unique } from '@mikro-orm/core';
import { BnMode, StudyConfigOrigin } from '../../schema/enums';
import { BaseEntity } from './base';
import { Candidate } from './candidate';
import { Dataset } from './dataset';
import { Job } from './job';
import { Project } from './project';
import { Supernet } from './supernet';

/**
 * How well a supernet ranks configurations (TRUST.md): configurations scored from the supernet on
 * the search hold-out by one EVALUATE job, and each retrained from scratch with every seed.
 */
@Entity({ tableName: 'ranking_study' })
export class RankingStudy extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @ManyToOne({ entity: () => Supernet })
  supernet!: Supernet;

  /** What the configurations are retrained and scored on: the supernet's dataset. */
  @ManyToOne({ entity: () => Dataset })
  dataset!: Dataset;

  @Property({ type: 'json' })
  seeds!: number[];

  /** The retraining recipe as every retraining run of the study stores it. */
  @Property({ type: 'json' })
  recipe!: Record<string, unknown>;

  @Property({ type: 'integer' })
  sampledConfigs!: number;

  @Property({ type: 'integer' })
  sampleSeed!: number;

  @Property({ type: 'integer' })
  evalBatchSize!: number;

  @Property({ type: 'integer' })
  evalSeed!: number;

  @Property({ type: 'integer' })
  evalBatches!: number;

  @Property({ type: 'integer' })
  calibrationImages!: number;

  @Property({ type: 'integer' })
  calibrationSeed!: number;

  @ManyToOne({ entity: () => Job })
  evaluationJob!: Job;
}

/** One supernet score of a configuration: accuracy and loss on the search hold-out under a BN mode. */
export interface SupernetScore {
  readonly bnMode: BnMode;
  readonly accuracy: number;
  readonly loss: number;
}

/** One (seed, training run) of a study configuration: a run queued for the study, or an identical one reused. */
export interface StudyRun {
  readonly seed: number;
  readonly runId: string;
}

@Entity({ tableName: 'ranking_study_config' })
@Unique({ properties: ['study', 'candidate'] })
export class RankingStudyConfig extends BaseEntity {
  @ManyToOne({ entity: () => RankingStudy, deleteRule: 'cascade' })
  study!: RankingStudy;

  @ManyToOne({ entity: () => Candidate })
  candidate!: Candidate;

  @Enum({ items: () => StudyConfigOrigin, type: 'string' })
  origin!: StudyConfigOrigin;

  /** Filled in when the study's EVALUATE job succeeds, one per BN mode. */
  @Property({ type: 'json' })
  scores: Opt<SupernetScore[]> = [];

  /** One per seed of the study, in the study's seed order. */
  @Property({ type: 'json' })
  runs!: StudyRun[];
}
