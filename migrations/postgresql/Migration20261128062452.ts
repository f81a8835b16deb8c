import { Migration } from '@mikro-orm/migrations';

export class Migration20261128062452 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "executor" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(100) not null, "worker_id" varchar(100) not null, "kinds" jsonb not null, "backend" varchar(100) not null, "provider" varchar(100) not null, "device" text not null, "versions" jsonb not null, "note" text null, "host" varchar(255) not null, "pid" int not null, "last_seen_at" timestamptz not null, "online" boolean not null default true, constraint "executor_pkey" primary key ("id"));`);

    this.addSql(`create table "project" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(200) not null, "description" text null, constraint "project_pkey" primary key ("id"));`);
    this.addSql(`alter table "project" add constraint "project_name_unique" unique ("name");`);

    this.addSql(`create table "job" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "kind" text check ("kind" in ('TRAIN_SUPERNET', 'SLIM', 'RETRAIN', 'PROFILE_LATENCY', 'EVALUATE')) not null, "state" text check ("state" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', "payload" jsonb not null, "result" jsonb null, "resume_state" jsonb null, "attempts" int not null default 0, "max_attempts" int not null default 3, "progress" double precision not null default 0, "progress_message" text null, "error" text null, "cancel_requested" boolean not null default false, "executor_name" varchar(100) null, "backend" varchar(100) null, "provider" varchar(100) null, "device" text null, "executor_note" text null, "worker_id" varchar(100) null, "heartbeat_at" timestamptz null, "started_at" timestamptz null, "finished_at" timestamptz null, "subject_type" varchar(30) null, "subject_id" uuid null, constraint "job_pkey" primary key ("id"));`);
    this.addSql(`create index "job_state_kind_index" on "job" ("state", "kind");`);

    this.addSql(`create table "dataset" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "name" varchar(200) not null, "format" text check ("format" in ('IDX', 'IMAGE_FOLDER', 'SYNTHETIC')) not null, "uri" text not null, "input_channels" int not null, "input_height" int not null, "input_width" int not null, "num_classes" int not null, "class_names" jsonb null, "train_size" int not null, "test_size" int not null, "search_fraction" double precision not null, "split_seed" int not null, "split_digest" varchar(64) null, "search_size" int null, constraint "dataset_pkey" primary key ("id"));`);
    this.addSql(`alter table "dataset" add constraint "dataset_project_id_name_unique" unique ("project_id", "name");`);

    this.addSql(`create table "artifact" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid null, "kind" text check ("kind" in ('CHECKPOINT', 'ONNX', 'LATENCY_TABLE', 'DATASET_SPLIT', 'OTHER')) not null, "name" varchar(300) not null, "uri" text not null, "bytes" bigint not null, "sha256" varchar(64) not null, constraint "artifact_pkey" primary key ("id"));`);
    this.addSql(`create index "artifact_sha256_index" on "artifact" ("sha256");`);

    this.addSql(`create table "search_space" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "name" varchar(200) not null, "architecture" varchar(50) not null, "input_size" int not null, "num_classes" int not null, "max_width" double precision not null, "groups" int not null, "divisor" int not null, "unit_overrides" jsonb not null, "max_channels" jsonb not null, "units" jsonb not null, constraint "search_space_pkey" primary key ("id"));`);
    this.addSql(`alter table "search_space" add constraint "search_space_project_id_name_unique" unique ("project_id", "name");`);

    this.addSql(`create table "training_run" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "kind" text check ("kind" in ('SUPERNET', 'RETRAIN')) not null, "status" text check ("status" in ('PENDING', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELLED')) not null default 'PENDING', "supernet_id" uuid null, "candidate_id" uuid null, "seed" int not null, "recipe" jsonb not null, "backend" varchar(100) null, "checkpoint_id" uuid null, "checkpoint_step" int null, "summary" jsonb null, "started_at" timestamptz null, "finished_at" timestamptz null, constraint "training_run_pkey" primary key ("id"));`);
    this.addSql(`create index "training_run_supernet_id_index" on "training_run" ("supernet_id");`);
    this.addSql(`create index "training_run_candidate_id_index" on "training_run" ("candidate_id");`);

    this.addSql(`create table "supernet" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "name" varchar(200) not null, "search_space_id" uuid not null, "dataset_id" uuid not null, "recipe" jsonb not null, "run_id" uuid not null, constraint "supernet_pkey" primary key ("id"));`);

    this.addSql(`create table "slimming_trajectory" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "supernet_id" uuid not null, "constraint" text check ("constraint" in ('MACS', 'PARAMS', 'LATENCY')) not null, "targets" jsonb not null, "eval_batch_size" int not null, "eval_seed" int not null, "bn_mode" text check ("bn_mode" in ('BATCH_STATS', 'RECALIBRATED')) not null, "scoring" text check ("scoring" in ('ACCURACY', 'ACCURACY_DROP_PER_COST')) not null, "evaluations" int not null default 0, "cache_hits" int not null default 0, "eval_seconds" double precision not null default 0, constraint "slimming_trajectory_pkey" primary key ("id"));`);

    this.addSql(`create table "slimming_step" ("id" uuid not null, "created_at" timestamptz not null, "trajectory_id" uuid not null, "index" int not null, "unit_index" int null, "unit_name" varchar(100) null, "channels" jsonb not null, "macs" double precision not null, "params" double precision not null, "predicted_latency_ms" double precision null, "score" double precision not null, "accuracy" double precision not null, "accuracy_drop" double precision not null, "proposals" jsonb not null, constraint "slimming_step_pkey" primary key ("id"));`);
    this.addSql(`alter table "slimming_step" add constraint "slimming_step_trajectory_id_index_unique" unique ("trajectory_id", "index");`);

    this.addSql(`create table "candidate" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "search_space_id" uuid not null, "config_hash" varchar(64) not null, "channels" jsonb not null, "source" text check ("source" in ('AUTOSLIM', 'UNIFORM', 'IMPORTED')) not null, "trajectory_id" uuid null, "target" double precision null, "width_multiplier" double precision null, "macs" double precision not null, "params" double precision not null, "search_accuracy" double precision null, "predicted_latency_ms" double precision null, "measured_latency_ms" double precision null, "retrained_top1mean" double precision null, "retrained_top1std" double precision null, "retrained_runs" int not null default 0, constraint "candidate_pkey" primary key ("id"));`);
    this.addSql(`create index "candidate_project_id_macs_index" on "candidate" ("project_id", "macs");`);
    this.addSql(`alter table "candidate" add constraint "candidate_search_space_id_config_hash_source_unique" unique ("search_space_id", "config_hash", "source");`);

    this.addSql(`create table "metric_point" ("id" serial primary key, "run_id" uuid not null, "name" varchar(100) not null, "step" int not null, "value" double precision not null, "wall_time" timestamptz not null);`);
    this.addSql(`alter table "metric_point" add constraint "metric_point_run_id_name_step_unique" unique ("run_id", "name", "step");`);

    this.addSql(`alter table "job" add constraint "job_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);

    this.addSql(`alter table "dataset" add constraint "dataset_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);

    this.addSql(`alter table "artifact" add constraint "artifact_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "search_space" add constraint "search_space_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);

    this.addSql(`alter table "training_run" add constraint "training_run_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);
    this.addSql(`alter table "training_run" add constraint "training_run_checkpoint_id_foreign" foreign key ("checkpoint_id") references "artifact" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "supernet" add constraint "supernet_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);
    this.addSql(`alter table "supernet" add constraint "supernet_search_space_id_foreign" foreign key ("search_space_id") references "search_space" ("id") on update cascade;`);
    this.addSql(`alter table "supernet" add constraint "supernet_dataset_id_foreign" foreign key ("dataset_id") references "dataset" ("id") on update cascade;`);
    this.addSql(`alter table "supernet" add constraint "supernet_run_id_foreign" foreign key ("run_id") references "training_run" ("id") on update cascade;`);

    this.addSql(`alter table "slimming_trajectory" add constraint "slimming_trajectory_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);
    this.addSql(`alter table "slimming_trajectory" add constraint "slimming_trajectory_supernet_id_foreign" foreign key ("supernet_id") references "supernet" ("id") on update cascade;`);

    this.addSql(`alter table "slimming_step" add constraint "slimming_step_trajectory_id_foreign" foreign key ("trajectory_id") references "slimming_trajectory" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "candidate" add constraint "candidate_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade;`);
    this.addSql(`alter table "candidate" add constraint "candidate_search_space_id_foreign" foreign key ("search_space_id") references "search_space" ("id") on update cascade;`);
    this.addSql(`alter table "candidate" add constraint "candidate_trajectory_id_foreign" foreign key ("trajectory_id") references "slimming_trajectory" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "metric_point" add constraint "metric_point_run_id_foreign" foreign key ("run_id") references "training_run" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "job" drop constraint "job_project_id_foreign";`);

    this.addSql(`alter table "dataset" drop constraint "dataset_project_id_foreign";`);

    this.addSql(`alter table "artifact" drop constraint "artifact_project_id_foreign";`);

    this.addSql(`alter table "search_space" drop constraint "search_space_project_id_foreign";`);

    this.addSql(`alter table "training_run" drop constraint "training_run_project_id_foreign";`);

    this.addSql(`alter table "supernet" drop constraint "supernet_project_id_foreign";`);

    this.addSql(`alter table "slimming_trajectory" drop constraint "slimming_trajectory_project_id_foreign";`);

    this.addSql(`alter table "candidate" drop constraint "candidate_project_id_foreign";`);

    this.addSql(`alter table "supernet" drop constraint "supernet_dataset_id_foreign";`);

    this.addSql(`alter table "training_run" drop constraint "training_run_checkpoint_id_foreign";`);

    this.addSql(`alter table "supernet" drop constraint "supernet_search_space_id_foreign";`);

    this.addSql(`alter table "candidate" drop constraint "candidate_search_space_id_foreign";`);

    this.addSql(`alter table "supernet" drop constraint "supernet_run_id_foreign";`);

    this.addSql(`alter table "metric_point" drop constraint "metric_point_run_id_foreign";`);

    this.addSql(`alter table "slimming_trajectory" drop constraint "slimming_trajectory_supernet_id_foreign";`);

    this.addSql(`alter table "slimming_step" drop constraint "slimming_step_trajectory_id_foreign";`);

    this.addSql(`alter table "candidate" drop constraint "candidate_trajectory_id_foreign";`);

    this.addSql(`drop table if exists "executor" cascade;`);

    this.addSql(`drop table if exists "project" cascade;`);

    this.addSql(`drop table if exists "job" cascade;`);

    this.addSql(`drop table if exists "dataset" cascade;`);

    this.addSql(`drop table if exists "artifact" cascade;`);

    this.addSql(`drop table if exists "search_space" cascade;`);

    this.addSql(`drop table if exists "training_run" cascade;`);

    this.addSql(`drop table if exists "supernet" cascade;`);

    this.addSql(`drop table if exists "slimming_trajectory" cascade;`);

    this.addSql(`drop table if exists "slimming_step" cascade;`);

    this.addSql(`drop table if exists "candidate" cascade;`);

    this.addSql(`drop table if exists "metric_point" cascade;`);
  }

}
