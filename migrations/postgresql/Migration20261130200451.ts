import { Migration } from '@mikro-orm/migrations';

/** A demo project's pipeline: its supernet and the stage it has reached, each stage queuing the next. */
export class Migration20261130200451 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "demo_pipeline" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "supernet_id" uuid not null, "stage" text check ("stage" in ('TRAINING', 'SLIMMING', 'RETRAINING', 'DONE')) not null default 'TRAINING', constraint "demo_pipeline_pkey" primary key ("id"));`);
    this.addSql(`alter table "demo_pipeline" add constraint "demo_pipeline_project_id_unique" unique ("project_id");`);
    this.addSql(`alter table "demo_pipeline" add constraint "demo_pipeline_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);
    this.addSql(`alter table "demo_pipeline" add constraint "demo_pipeline_supernet_id_foreign" foreign key ("supernet_id") references "supernet" ("id") on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "demo_pipeline" cascade;`);
  }
}
