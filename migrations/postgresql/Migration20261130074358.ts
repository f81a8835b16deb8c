import { Migration } from '@mikro-orm/migrations';

export class Migration20261130074358 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "job_attempt" ("id" uuid not null, "created_at" timestamptz not null, "job_id" uuid not null, "attempt" int not null, "worker_id" varchar(100) not null, "executor_name" varchar(100) not null, "claimed_at" timestamptz not null, "lease_expires_at" timestamptz not null, "ended_at" timestamptz null, "outcome" text check ("outcome" in ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'RELEASED', 'EXPIRED')) not null default 'RUNNING', "error" text null, constraint "job_attempt_pkey" primary key ("id"));`);
    this.addSql(`create index "job_attempt_worker_id_index" on "job_attempt" ("worker_id");`);
    this.addSql(`alter table "job_attempt" add constraint "job_attempt_job_id_attempt_unique" unique ("job_id", "attempt");`);

    this.addSql(`create table "worker" ("id" uuid not null, "created_at" timestamptz not null, "host" varchar(255) not null, "pid" int not null, "version" varchar(50) not null, "plugins" jsonb not null, "concurrency" int not null, "last_heartbeat_at" timestamptz not null, "stopped_at" timestamptz null, constraint "worker_pkey" primary key ("id"));`);

    this.addSql(`alter table "job_attempt" add constraint "job_attempt_job_id_foreign" foreign key ("job_id") references "job" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "job" add column "lease_token" varchar(64) null, add column "lease_expires_at" timestamptz null, add column "queue_ref" varchar(64) null;`);

    this.addSql(`alter table "dataset" add column "content_digest" varchar(64) null;`);

    this.addSql(`alter table "executor" add column "latency_fingerprint" varchar(64) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "job_attempt" cascade;`);

    this.addSql(`drop table if exists "worker" cascade;`);

    this.addSql(`alter table "dataset" drop column "content_digest";`);

    this.addSql(`alter table "executor" drop column "latency_fingerprint";`);

    this.addSql(`alter table "job" drop column "lease_token", drop column "lease_expires_at", drop column "queue_ref";`);
  }

}
