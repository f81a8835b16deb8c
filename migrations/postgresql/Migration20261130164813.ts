import { Migration } from '@mikro-orm/migrations';

/** Retraining from a supernet: where a training run's weights started. */
export class Migration20261130164813 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "training_run" add column "init" text check ("init" in ('SCRATCH', 'SUPERNET')) not null default 'SCRATCH';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "training_run" drop column "init";`);
  }
}
