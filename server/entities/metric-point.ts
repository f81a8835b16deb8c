import { Entity, ManyToOne, type Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { TrainingRun } from './training-run';

/**
 * One value of one metric at one step. The unique key makes a resumed run that reports a step
 * again overwrite nothing and duplicate nothing.
 */
@Entity({ tableName: 'metric_point' })
@Unique({ properties: ['run', 'name', 'step'] })
export class MetricPoint {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => TrainingRun, deleteRule: 'cascade' })
  run!: TrainingRun;

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Property({ type: 'integer' })
  step!: number;

  @Property({ type: 'double' })
  value!: number;

  @Property({ type: 'datetime' })
  wallTime: Opt<Date> = new Date();
}
