import { Migration } from '@mikro-orm/migrations';

/** A demo project's pipeline: its supernet and the stage it has reached, each stage queuing the next. */
export class Migration20261130200451 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table \`demo_pipeline\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`supernet_id\` text not null, \`stage\` text check (\`stage\` in ('TRAINING', 'SLIMMING', 'RETRAINING', 'DONE')) not null default 'TRAINING', constraint \`demo_pipeline_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`demo_pipeline_supernet_id_foreign\` foreign key(\`supernet_id\`) references \`supernet\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`demo_pipeline_project_id_unique\` on \`demo_pipeline\` (\`project_id\`);`);
    this.addSql(`create index \`demo_pipeline_supernet_id_index\` on \`demo_pipeline\` (\`supernet_id\`);`);
  }
}
