import { Migration } from '@mikro-orm/migrations';

export class Migration20261128071832 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "device" ("id" uuid not null, "created_at" timestamptz not null, "fingerprint" varchar(64) not null, "host" varchar(255) not null, "cpu_model" varchar(255) not null, "cores" int not null, "threads" int not null, "runtime" varchar(100) not null, "provider" varchar(100) not null, "os" varchar(255) not null, "versions" jsonb not null, "affinity" varchar(100) null, "note" text null, "last_seen_at" timestamptz not null, constraint "device_pkey" primary key ("id"));`);
    this.addSql(`alter table "device" add constraint "device_fingerprint_unique" unique ("fingerprint");`);

    this.addSql(`create table "latency_table" ("id" uuid not null, "created_at" timestamptz not null, "device_id" uuid not null, "search_space_id" uuid not null, "version" int not null, "job_id" uuid not null, "artifact_id" uuid not null, "batch_size" int not null, "threads" int not null, "grid_points" int null, "rounds" int not null, "blocks" int not null, "measurements" int not null, "empty_model_ms" double precision not null, "overhead_ms" double precision not null, "scale" double precision not null, "calibration_configs" int not null, "build_seconds" double precision not null, "predicted_min_ms" double precision not null, "predicted_max_ms" double precision not null, "validation_configs" int not null, "mape" double precision not null, "within5" double precision not null, "within10" double precision not null, "uncalibrated_mape" double precision not null, "validation_rows" jsonb not null, constraint "latency_table_pkey" primary key ("id"));`);
    this.addSql(`alter table "latency_table" add constraint "latency_table_job_id_unique" unique ("job_id");`);
    this.addSql(`alter table "latency_table" add constraint "latency_table_device_id_search_space_id_version_unique" unique ("device_id", "search_space_id", "version");`);

    this.addSql(`create table "latency_measurement" ("id" uuid not null, "created_at" timestamptz not null, "device_id" uuid not null, "search_space_id" uuid not null, "candidate_id" uuid null, "job_id" uuid not null, "config_hash" varchar(64) not null, "channels" jsonb not null, "batch_size" int not null, "median_ms" double precision not null, "p10ms" double precision not null, "p90ms" double precision not null, "mean_ms" double precision not null, "std_ms" double precision not null, "warmup_runs" int not null, "timed_runs" int not null, "attempts" int not null, "noisy" boolean not null, "predicted_ms" double precision null, constraint "latency_measurement_pkey" primary key ("id"));`);
    this.addSql(`alter table "latency_measurement" add constraint "latency_measurement_job_id_unique" unique ("job_id");`);
    this.addSql(`create index "latency_measurement_candidate_id_index" on "latency_measurement" ("candidate_id");`);

    this.addSql(`alter table "latency_table" add constraint "latency_table_device_id_foreign" foreign key ("device_id") references "device" ("id") on update cascade;`);
    this.addSql(`alter table "latency_table" add constraint "latency_table_search_space_id_foreign" foreign key ("search_space_id") references "search_space" ("id") on update cascade;`);
    this.addSql(`alter table "latency_table" add constraint "latency_table_artifact_id_foreign" foreign key ("artifact_id") references "artifact" ("id") on update cascade;`);

    this.addSql(`alter table "latency_measurement" add constraint "latency_measurement_device_id_foreign" foreign key ("device_id") references "device" ("id") on update cascade;`);
    this.addSql(`alter table "latency_measurement" add constraint "latency_measurement_search_space_id_foreign" foreign key ("search_space_id") references "search_space" ("id") on update cascade;`);
    this.addSql(`alter table "latency_measurement" add constraint "latency_measurement_candidate_id_foreign" foreign key ("candidate_id") references "candidate" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "job" add column "device_fingerprint" varchar(64) null;`);

    this.addSql(`alter table "slimming_trajectory" add column "latency_table_id" uuid null;`);
    this.addSql(`alter table "slimming_trajectory" add constraint "slimming_trajectory_latency_table_id_foreign" foreign key ("latency_table_id") references "latency_table" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "candidate" add column "latency_target_missed" boolean null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "latency_table" drop constraint "latency_table_device_id_foreign";`);

    this.addSql(`alter table "latency_measurement" drop constraint "latency_measurement_device_id_foreign";`);

    this.addSql(`alter table "slimming_trajectory" drop constraint "slimming_trajectory_latency_table_id_foreign";`);

    this.addSql(`drop table if exists "device" cascade;`);

    this.addSql(`drop table if exists "latency_table" cascade;`);

    this.addSql(`drop table if exists "latency_measurement" cascade;`);

    this.addSql(`alter table "candidate" drop column "latency_target_missed";`);

    this.addSql(`alter table "job" drop column "device_fingerprint";`);

    this.addSql(`alter table "slimming_trajectory" drop column "latency_table_id";`);
  }

}
