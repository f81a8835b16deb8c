import { Migration } from '@mikro-orm/migrations';

export class Migration20261130135104 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "artifact" drop constraint if exists "artifact_kind_check";`);

    this.addSql(`alter table "artifact" add constraint "artifact_kind_check" check("kind" in ('CHECKPOINT', 'ONNX', 'LATENCY_TABLE', 'DATASET_SPLIT', 'DATASET_MANIFEST', 'OTHER'));`);

    this.addSql(`alter table "dataset" add column "sizes_vary" boolean not null default false, add column "manifest_id" uuid null, add column "normalization" jsonb null, add column "skip_corrupt" boolean not null default false, add column "skipped_files" int not null default 0;`);
    this.addSql(`alter table "dataset" add constraint "dataset_manifest_id_foreign" foreign key ("manifest_id") references "artifact" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "artifact" drop constraint if exists "artifact_kind_check";`);

    this.addSql(`alter table "dataset" drop constraint "dataset_manifest_id_foreign";`);

    this.addSql(`alter table "artifact" add constraint "artifact_kind_check" check("kind" in ('CHECKPOINT', 'ONNX', 'LATENCY_TABLE', 'DATASET_SPLIT', 'OTHER'));`);

    this.addSql(`alter table "dataset" drop column "sizes_vary", drop column "manifest_id", drop column "normalization", drop column "skip_corrupt", drop column "skipped_files";`);
  }

}
