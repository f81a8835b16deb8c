import { Migration } from '@mikro-orm/migrations';

export class Migration20261130110942 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "dataset" drop constraint if exists "dataset_format_check";`);

    this.addSql(`alter table "dataset" add constraint "dataset_format_check" check("format" in ('IDX', 'IMAGE_FOLDER', 'CIFAR', 'SYNTHETIC'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "dataset" drop constraint if exists "dataset_format_check";`);

    this.addSql(`alter table "dataset" add constraint "dataset_format_check" check("format" in ('IDX', 'IMAGE_FOLDER', 'SYNTHETIC'));`);
  }

}
