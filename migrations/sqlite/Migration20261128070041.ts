import { Migration } from '@mikro-orm/migrations';

export class Migration20261128070041 extends Migration {

  // SQLite cannot alter a check constraint, so the job table is rebuilt; nothing references it.
  // (The generator also rebuilt five unchanged tables; dropping artifact that way would null
  // training_run.checkpoint_id through its ON DELETE SET NULL, so only job is kept.)
  override async up(): Promise<void> {
    this.addSql(`create table \`job__temp_alter\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`kind\` text check (\`kind\` in ('TRAIN_SUPERNET', 'SLIM', 'RETRAIN', 'PROFILE_LATENCY', 'EVALUATE', 'EXPORT')) not null, \`state\` text check (\`state\` in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \`payload\` json not null, \`result\` json null, \`resume_state\` json null, \`attempts\` integer not null default 0, \`max_attempts\` integer not null default 3, \`progress\` double not null default 0, \`progress_message\` text null, \`error\` text null, \`cancel_requested\` integer not null default false, \`executor_name\` text null, \`backend\` text null, \`provider\` text null, \`device\` text null, \`executor_note\` text null, \`worker_id\` text null, \`heartbeat_at\` datetime null, \`started_at\` datetime null, \`finished_at\` datetime null, \`subject_type\` text null, \`subject_id\` text null, constraint \`job_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`insert into \`job__temp_alter\` select \`id\`, \`created_at\`, \`project_id\`, \`kind\`, \`state\`, \`payload\`, \`result\`, \`resume_state\`, \`attempts\`, \`max_attempts\`, \`progress\`, \`progress_message\`, \`error\`, \`cancel_requested\`, \`executor_name\`, \`backend\`, \`provider\`, \`device\`, \`executor_note\`, \`worker_id\`, \`heartbeat_at\`, \`started_at\`, \`finished_at\`, \`subject_type\`, \`subject_id\` from \`job\`;`);
    this.addSql(`drop table \`job\`;`);
    this.addSql(`alter table \`job__temp_alter\` rename to \`job\`;`);
    this.addSql(`create index \`job_project_id_index\` on \`job\` (\`project_id\`);`);
    this.addSql(`create index \`job_state_kind_index\` on \`job\` (\`state\`, \`kind\`);`);
  }

}
