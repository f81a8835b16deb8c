import { Migration } from '@mikro-orm/migrations';

/** Sample manifests: the DATASET_MANIFEST artifact kind, and a dataset's manifest, statistics and corrupt-file policy. */
export class Migration20261130135104 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table \`artifact__temp_alter\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text null, \`kind\` text check (\`kind\` in ('CHECKPOINT', 'ONNX', 'LATENCY_TABLE', 'DATASET_SPLIT', 'DATASET_MANIFEST', 'OTHER')) not null, \`name\` text not null, \`uri\` text not null, \`bytes\` bigint not null, \`sha256\` text not null, constraint \`artifact_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`insert into \`artifact__temp_alter\` select \`id\`, \`created_at\`, \`project_id\`, \`kind\`, \`name\`, \`uri\`, \`bytes\`, \`sha256\` from \`artifact\`;`);
    this.addSql(`drop table \`artifact\`;`);
    this.addSql(`alter table \`artifact__temp_alter\` rename to \`artifact\`;`);
    this.addSql(`create index \`artifact_project_id_index\` on \`artifact\` (\`project_id\`);`);
    this.addSql(`create index \`artifact_sha256_index\` on \`artifact\` (\`sha256\`);`);
    this.addSql(`alter table \`dataset\` add column \`sizes_vary\` integer not null default false;`);
    this.addSql(`alter table \`dataset\` add column \`manifest_id\` text null constraint \`dataset_manifest_id_foreign\` references \`artifact\` (\`id\`) on update cascade on delete set null;`);
    this.addSql(`alter table \`dataset\` add column \`normalization\` json null;`);
    this.addSql(`alter table \`dataset\` add column \`skip_corrupt\` integer not null default false;`);
    this.addSql(`alter table \`dataset\` add column \`skipped_files\` integer not null default 0;`);
    this.addSql(`create index \`dataset_manifest_id_index\` on \`dataset\` (\`manifest_id\`);`);
  }
}
