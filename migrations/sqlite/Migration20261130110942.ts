import { Migration } from '@mikro-orm/migrations';

export class Migration20261130110942 extends Migration {

  // SQLite cannot alter a check constraint, so the dataset table is rebuilt; openDatabase runs
  // migrations with foreign keys off, or dropping it would fail while supernets refer to it. (The
  // generator also rebuilt seven unchanged tables; only dataset is kept.)
  override async up(): Promise<void> {
    this.addSql(`create table \`dataset__temp_alter\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`name\` text not null, \`format\` text check (\`format\` in ('IDX', 'IMAGE_FOLDER', 'CIFAR', 'SYNTHETIC')) not null, \`uri\` text not null, \`input_channels\` integer not null, \`input_height\` integer not null, \`input_width\` integer not null, \`num_classes\` integer not null, \`class_names\` json null, \`train_size\` integer not null, \`test_size\` integer not null, \`search_fraction\` double not null, \`split_seed\` integer not null, \`split_digest\` text null, \`search_size\` integer null, \`content_digest\` text null, constraint \`dataset_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`insert into \`dataset__temp_alter\` select \`id\`, \`created_at\`, \`project_id\`, \`name\`, \`format\`, \`uri\`, \`input_channels\`, \`input_height\`, \`input_width\`, \`num_classes\`, \`class_names\`, \`train_size\`, \`test_size\`, \`search_fraction\`, \`split_seed\`, \`split_digest\`, \`search_size\`, \`content_digest\` from \`dataset\`;`);
    this.addSql(`drop table \`dataset\`;`);
    this.addSql(`alter table \`dataset__temp_alter\` rename to \`dataset\`;`);
    this.addSql(`create index \`dataset_project_id_index\` on \`dataset\` (\`project_id\`);`);
    this.addSql(`create unique index \`dataset_project_id_name_unique\` on \`dataset\` (\`project_id\`, \`name\`);`);
  }

}
