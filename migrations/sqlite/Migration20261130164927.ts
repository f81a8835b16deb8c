import { Migration } from '@mikro-orm/migrations';

export class Migration20261130164927 extends Migration {

  // SQLite cannot alter a check constraint, so the candidate table is rebuilt for the SAMPLED
  // source, with the inherited-accuracy columns; openDatabase runs migrations with foreign keys
  // off. (The generator also rebuilt seven unchanged tables and mangled the new columns; only the
  // two new tables are kept from it.)
  override async up(): Promise<void> {
    this.addSql(`create table \`ranking_study\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`supernet_id\` text not null, \`dataset_id\` text not null, \`seeds\` json not null, \`recipe\` json not null, \`sampled_configs\` integer not null, \`sample_seed\` integer not null, \`eval_batch_size\` integer not null, \`eval_seed\` integer not null, \`eval_batches\` integer not null, \`calibration_images\` integer not null, \`calibration_seed\` integer not null, \`evaluation_job_id\` text not null, constraint \`ranking_study_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`ranking_study_supernet_id_foreign\` foreign key(\`supernet_id\`) references \`supernet\`(\`id\`) on update cascade, constraint \`ranking_study_dataset_id_foreign\` foreign key(\`dataset_id\`) references \`dataset\`(\`id\`) on update cascade, constraint \`ranking_study_evaluation_job_id_foreign\` foreign key(\`evaluation_job_id\`) references \`job\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`ranking_study_project_id_index\` on \`ranking_study\` (\`project_id\`);`);
    this.addSql(`create index \`ranking_study_supernet_id_index\` on \`ranking_study\` (\`supernet_id\`);`);
    this.addSql(`create index \`ranking_study_dataset_id_index\` on \`ranking_study\` (\`dataset_id\`);`);
    this.addSql(`create index \`ranking_study_evaluation_job_id_index\` on \`ranking_study\` (\`evaluation_job_id\`);`);

    this.addSql(`create table \`ranking_study_config\` (\`id\` text not null, \`created_at\` datetime not null, \`study_id\` text not null, \`candidate_id\` text not null, \`origin\` text check (\`origin\` in ('SAMPLED', 'UNIFORM', 'AUTOSLIM')) not null, \`scores\` json not null, \`runs\` json not null, constraint \`ranking_study_config_study_id_foreign\` foreign key(\`study_id\`) references \`ranking_study\`(\`id\`) on delete cascade on update cascade, constraint \`ranking_study_config_candidate_id_foreign\` foreign key(\`candidate_id\`) references \`candidate\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`ranking_study_config_study_id_index\` on \`ranking_study_config\` (\`study_id\`);`);
    this.addSql(`create index \`ranking_study_config_candidate_id_index\` on \`ranking_study_config\` (\`candidate_id\`);`);
    this.addSql(`create unique index \`ranking_study_config_study_id_candidate_id_unique\` on \`ranking_study_config\` (\`study_id\`, \`candidate_id\`);`);

    this.addSql(`create table \`candidate__temp_alter\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`search_space_id\` text not null, \`config_hash\` text not null, \`channels\` json not null, \`source\` text check (\`source\` in ('AUTOSLIM', 'UNIFORM', 'IMPORTED', 'SAMPLED')) not null, \`trajectory_id\` text null, \`target\` double null, \`width_multiplier\` double null, \`macs\` double not null, \`params\` double not null, \`search_accuracy\` double null, \`predicted_latency_ms\` double null, \`measured_latency_ms\` double null, \`retrained_top1mean\` double null, \`retrained_top1std\` double null, \`retrained_runs\` integer not null default 0, \`latency_target_missed\` integer null, \`inherited_top1\` double null, \`inherited_from_id\` text null, constraint \`candidate_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`candidate_search_space_id_foreign\` foreign key(\`search_space_id\`) references \`search_space\`(\`id\`) on update cascade, constraint \`candidate_trajectory_id_foreign\` foreign key(\`trajectory_id\`) references \`slimming_trajectory\`(\`id\`) on delete set null on update cascade, constraint \`candidate_inherited_from_id_foreign\` foreign key(\`inherited_from_id\`) references \`supernet\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`insert into \`candidate__temp_alter\` (\`id\`, \`created_at\`, \`project_id\`, \`search_space_id\`, \`config_hash\`, \`channels\`, \`source\`, \`trajectory_id\`, \`target\`, \`width_multiplier\`, \`macs\`, \`params\`, \`search_accuracy\`, \`predicted_latency_ms\`, \`measured_latency_ms\`, \`retrained_top1mean\`, \`retrained_top1std\`, \`retrained_runs\`, \`latency_target_missed\`) select \`id\`, \`created_at\`, \`project_id\`, \`search_space_id\`, \`config_hash\`, \`channels\`, \`source\`, \`trajectory_id\`, \`target\`, \`width_multiplier\`, \`macs\`, \`params\`, \`search_accuracy\`, \`predicted_latency_ms\`, \`measured_latency_ms\`, \`retrained_top1mean\`, \`retrained_top1std\`, \`retrained_runs\`, \`latency_target_missed\` from \`candidate\`;`);
    this.addSql(`drop table \`candidate\`;`);
    this.addSql(`alter table \`candidate__temp_alter\` rename to \`candidate\`;`);
    this.addSql(`create index \`candidate_project_id_index\` on \`candidate\` (\`project_id\`);`);
    this.addSql(`create index \`candidate_search_space_id_index\` on \`candidate\` (\`search_space_id\`);`);
    this.addSql(`create index \`candidate_trajectory_id_index\` on \`candidate\` (\`trajectory_id\`);`);
    this.addSql(`create index \`candidate_inherited_from_id_index\` on \`candidate\` (\`inherited_from_id\`);`);
    this.addSql(`create index \`candidate_project_id_macs_index\` on \`candidate\` (\`project_id\`, \`macs\`);`);
    this.addSql(`create unique index \`candidate_search_space_id_config_hash_source_unique\` on \`candidate\` (\`search_space_id\`, \`config_hash\`, \`source\`);`);
  }

}
