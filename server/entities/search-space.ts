import { Entity, ManyToOne, type Opt, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Project } from './project';

export interface StoredUnit {
  index: number;
  name: string;
  members: number[];
  layers: string[];
  max: number;
  min: number;
  choices: number[];
}

/** An architecture with its input, class count, width range and derived channel-unit table. */
@Entity({ tableName: 'search_space' })
@Unique({ properties: ['project', 'name'] })
export class SearchSpace extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 50 })
  architecture!: string;

  @Property({ type: 'integer' })
  inputSize!: number;

  @Property({ type: 'integer' })
  numClasses!: number;

  /** Width multiplier of the supernet (the widest config). */
  @Property({ type: 'double' })
  maxWidth!: number;

  @Property({ type: 'integer' })
  groups!: number;

  @Property({ type: 'integer' })
  divisor!: number;

  /** Per-unit overrides as the user gave them, keyed by unit name. */
  @Property({ type: 'json' })
  unitOverrides: Opt<Record<string, { min?: number; groups?: number }>> = {};

  /** The widest channel list, in the reference layout. */
  @Property({ type: 'json' })
  maxChannels!: number[];

  @Property({ type: 'json' })
  units!: StoredUnit[];
}
