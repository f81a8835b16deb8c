import { Migration } from '@mikro-orm/migrations';

/** What a trajectory was scored with: several evaluation batches, recalibrated BN, a minimum width per unit. */
export class Migration20261130171158 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table \`slimming_trajectory\` add column \`eval_batches\` integer not null default 1;`);
    this.addSql(`alter table \`slimming_trajectory\` add column \`calibration_images\` integer null;`);
    this.addSql(`alter table \`slimming_trajectory\` add column \`calibration_seed\` integer null;`);
    this.addSql(`alter table \`slimming_trajectory\` add column \`min_width_fraction\` double not null default 0;`);
  }
}
