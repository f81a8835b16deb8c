import { Entity, Enum, ManyToOne, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Project } from './project';
import { Supernet } from './supernet';

/** Where a demo stands; each stage's success queues the next (server/services/demo-service.ts). */
export enum DemoStage {
  TRAINING = 'TRAINING',
  SLIMMING = 'SLIMMING',
  RETRAINING = 'RETRAINING',
  DONE = 'DONE',
}

/** The demo pipeline of a demo project: its supernet, and the stage it has reached. */
@Entity({ tableName: 'demo_pipeline' })
export class DemoPipeline extends BaseEntity {
  @ManyToOne({ entity: () => Project, unique: true })
  project!: Project;

  @ManyToOne({ entity: () => Supernet })
  supernet!: Supernet;

  @Enum({ items: () => DemoStage, type: 'string' })
  stage: Opt<DemoStage> = DemoStage.TRAINING;
}
