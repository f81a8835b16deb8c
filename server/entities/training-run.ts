import { Entity, Enum, ManyToOne, type Opt, Property } from '@mikro-orm/core';
import { Artifact } from './artifact';
import { BaseEntity } from './base';
import { Project } from './project';
import { RetrainInit, RunKind, RunStatus } from '../../schema/enums';

/** One training attempt (a supernet, or a candidate retrained with one seed) with its history. */
@Entity({ tableName: 'training_run' })
export class TrainingRun extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @Enum({ items: () => RunKind, type: 'string' })
  kind!: RunKind;

  @Enum({ items: () => RunStatus, type: 'string' })
  status: Opt<RunStatus> = RunStatus.PENDING;

  /** The supernet this run trains or, for a retraining initialised from one, the supernet it started from. */
  @Property({ type: 'uuid', nullable: true, index: true })
  supernetId: string | null = null;

  @Property({ type: 'uuid', nullable: true, index: true })
  candidateId: string | null = null;

  /** The dataset it trains on; null for runs recorded before the dataset was. With the recipe, it makes the run's protocol (run-protocol.ts). */
  @Property({ type: 'uuid', nullable: true })
  datasetId: string | null = null;

  @Property({ type: 'integer' })
  seed!: number;

  @Property({ type: 'json' })
  recipe!: Record<string, unknown>;

  /** Where the weights started; only a retraining can start from a supernet. */
  @Enum({ items: () => RetrainInit, type: 'string', default: RetrainInit.SCRATCH })
  init: Opt<RetrainInit> = RetrainInit.SCRATCH;

  @Property({ type: 'string', length: 100, nullable: true })
  backend: string | null = null;

  /** The latest checkpoint; a resumed run starts from it. */
  @ManyToOne({ entity: () => Artifact, nullable: true })
  checkpoint: Artifact | null = null;

  @Property({ type: 'integer', nullable: true })
  checkpointStep: number | null = null;

  /** Final figures, e.g. test top-1 and top-5 of a retraining. */
  @Property({ type: 'json', nullable: true })
  summary: Opt<Record<string, number>> | null = null;

  @Property({ type: 'datetime', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;
}
