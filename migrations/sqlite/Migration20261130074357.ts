import { Migration } from '@mikro-orm/migrations';

export class Migration20261130074357 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`job_attempt\` (\`id\` text not null, \`created_at\` datetime not null, \`job_id\` text not null, \`attempt\` integer not null, \`worker_id\` text not null, \`executor_name\` text not null, \`claimed_at\` datetime not null, \`lease_expires_at\` datetime not null, \`ended_at\` datetime null, \`outcome\` text check (\`outcome\` in ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'RELEASED', 'EXPIRED')) not null default 'RUNNING', \`error\` text null, constraint \`job_attempt_job_id_foreign\` foreign key(\`job_id\`) references \`job\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`job_attempt_job_id_index\` on \`job_attempt\` (\`job_id\`);`);
    this.addSql(`create index \`job_attempt_worker_id_index\` on \`job_attempt\` (\`worker_id\`);`);
    this.addSql(`create unique index \`job_attempt_job_id_attempt_unique\` on \`job_attempt\` (\`job_id\`, \`attempt\`);`);

    this.addSql(`create table \`worker\` (\`id\` text not null, \`created_at\` datetime not null, \`host\` text not null, \`pid\` integer not null, \`version\` text not null, \`plugins\` json not null, \`concurrency\` integer not null, \`last_heartbeat_at\` datetime not null, \`stopped_at\` datetime null, primary key (\`id\`));`);

    this.addSql(`alter table \`job\` add column \`lease_token\` text null;`);
    this.addSql(`alter table \`job\` add column \`lease_expires_at\` datetime null;`);
    this.addSql(`alter table \`job\` add column \`queue_ref\` text null;`);

    this.addSql(`alter table \`dataset\` add column \`content_digest\` text null;`);

    this.addSql(`alter table \`executor\` add column \`latency_fingerprint\` text null;`);
  }

}
