import { Migration } from '@mikro-orm/migrations';

export class Migration20261130164928 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "ranking_study" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "supernet_id" uuid not null, "dataset_id" uuid not null, "seeds" jsonb not null, "recipe" jsonb not null, "sampled_configs" int not null, "sample_seed" int not null, "eval_batch_size" int not null, "eval_seed" int not null, "eval_batches" int not null, "calibration_images" int not null, "calibration_seed" int not null, "evaluation_job_id" uuid not null, constraint "ranking_study_pkey" primary key ("id"));`);

    this.addSql(`create table "ranking_study_config" ("id" uuid not null, "created_at" timestamptz not null, "study_id" uuid not null, "candidate_id" uuid not null, "origin" text check ("origin" in ('SAMPLED', 'UNIFORM', 'AUTOSLIM')) not null, "scores" jsonb not null, "runs" jsonb not null, constraint "ranking_study_config_pkey" primary key ("id"));`);
    this.addSql(`alter table "ranking_study_config" add constraint "ranking_study_config_study_id_candidate_id_unique" unique ("study_id", "candidate_id");`);

    this.addSql(`alter table "ranking_study" add constraint "ranking_study_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);
    this.addSql(`alter table "ranking_study" add constraint "ranking_study_supernet_id_foreign" foreign key ("supernet_id") references "supernet" ("id") on update cascade;`);
    this.addSql(`alter table "ranking_study" add constraint "ranking_study_dataset_id_foreign" foreign key ("dataset_id") references "dataset" ("id") on update cascade;`);
    this.addSql(`alter table "ranking_study" add constraint "ranking_study_evaluation_job_id_foreign" foreign key ("evaluation_job_id") references "job" ("id") on update cascade;`);

    this.addSql(`alter table "ranking_study_config" add constraint "ranking_study_config_study_id_foreign" foreign key ("study_id") references "ranking_study" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "ranking_study_config" add constraint "ranking_study_config_candidate_id_foreign" foreign key ("candidate_id") references "candidate" ("id") on update cascade;`);

    this.addSql(`alter table "candidate" drop constraint if exists "candidate_source_check";`);

    this.addSql(`alter table "candidate" add column "inherited_top1" double precision null, add column "inherited_from_id" uuid null;`);
    this.addSql(`alter table "candidate" add constraint "candidate_inherited_from_id_foreign" foreign key ("inherited_from_id") references "supernet" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "candidate" add constraint "candidate_source_check" check("source" in ('AUTOSLIM', 'UNIFORM', 'IMPORTED', 'SAMPLED'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "ranking_study_config" drop constraint "ranking_study_config_study_id_foreign";`);

    this.addSql(`drop table if exists "ranking_study" cascade;`);

    this.addSql(`drop table if exists "ranking_study_config" cascade;`);

    this.addSql(`alter table "candidate" drop constraint if exists "candidate_source_check";`);

    this.addSql(`alter table "candidate" drop constraint "candidate_inherited_from_id_foreign";`);

    this.addSql(`alter table "candidate" drop column "inherited_top1", drop column "inherited_from_id";`);

    this.addSql(`alter table "candidate" add constraint "candidate_source_check" check("source" in ('AUTOSLIM', 'UNIFORM', 'IMPORTED'));`);
  }

}
