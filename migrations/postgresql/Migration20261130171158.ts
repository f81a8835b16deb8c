import { Migration } from '@mikro-orm/migrations';

/** What a trajectory was scored with: several evaluation batches, recalibrated BN, a minimum width per unit. */
export class Migration20261130171158 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "slimming_trajectory" add column "eval_batches" int not null default 1, add column "calibration_images" int null, add column "calibration_seed" int null, add column "min_width_fraction" double precision not null default 0;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "slimming_trajectory" drop column "eval_batches", drop column "calibration_images", drop column "calibration_seed", drop column "min_width_fraction";`);
  }
}
