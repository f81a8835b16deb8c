import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Candidate } from './candidate';
import { SlimmingTrajectory } from './slimming';

/**
 * The configuration a trajectory picked for one of its budgets. A Candidate exists once per search
 * space and configuration and names only the first trajectory that found it; walks that pick the
 * same configuration again (another BN mode, another supernet) each keep their own pick here.
 */
@Entity({ tableName: 'trajectory_pick' })
@Unique({ properties: ['trajectory', 'target'] })
export class TrajectoryPick extends BaseEntity {
  @ManyToOne({ entity: () => SlimmingTrajectory, deleteRule: 'cascade' })
  trajectory!: SlimmingTrajectory;

  @ManyToOne({ entity: () => Candidate, deleteRule: 'cascade' })
  candidate!: Candidate;

  /** The budget, in the trajectory's constraint unit. */
  @Property({ type: 'double' })
  target!: number;

  /** The candidate's score on the search hold-out, as this trajectory scored it. */
  @Property({ type: 'double' })
  searchAccuracy!: number;

  /**
   * The index of the greedy step that reached the configuration. Null only for picks carried over
   * from candidates stored before picks existed, when no step of the trajectory has its channels.
   */
  @Property({ type: 'integer', nullable: true })
  step: number | null = null;

  @Property({ type: 'double', nullable: true })
  predictedLatencyMs: number | null = null;
}
