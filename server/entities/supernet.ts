import { Entity, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Dataset } from './dataset';
import { Project } from './project';
import { SearchSpace } from './search-space';
import { TrainingRun } from './training-run';

/** A slimmable training of a search space on a dataset. */
@Entity({ tableName: 'supernet' })
export class Supernet extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @ManyToOne({ entity: () => SearchSpace })
  searchSpace!: SearchSpace;

  @ManyToOne({ entity: () => Dataset })
  dataset!: Dataset;

  @Property({ type: 'json' })
  recipe!: Record<string, unknown>;

  @ManyToOne({ entity: () => TrainingRun })
  run!: TrainingRun;
}
