import { Migration } from '@mikro-orm/migrations';

export class Migration20261128071832 extends Migration {

  // Latency probes: devices, lookup tables, measurements; jobs bound to a device. (The generator
  // also rebuilt the unchanged dataset, artifact and training_run tables; those rebuilds are dropped,
  // as in the previous migration.)
  override async up(): Promise<void> {
    this.addSql(`create table \`device\` (\`id\` text not null, \`created_at\` datetime not null, \`fingerprint\` text not null, \`host\` text not null, \`cpu_model\` text not null, \`cores\` integer not null, \`threads\` integer not null, \`runtime\` text not null, \`provider\` text not null, \`os\` text not null, \`versions\` json not null, \`affinity\` text null, \`note\` text null, \`last_seen_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`device_fingerprint_unique\` on \`device\` (\`fingerprint\`);`);

    this.addSql(`create table \`latency_table\` (\`id\` text not null, \`created_at\` datetime not null, \`device_id\` text not null, \`search_space_id\` text not null, \`version\` integer not null, \`job_id\` text not null, \`artifact_id\` text not null, \`batch_size\` integer not null, \`threads\` integer not null, \`grid_points\` integer null, \`rounds\` integer not null, \`blocks\` integer not null, \`measurements\` integer not null, \`empty_model_ms\` double not null, \`overhead_ms\` double not null, \`scale\` double not null, \`calibration_configs\` integer not null, \`build_seconds\` double not null, \`predicted_min_ms\` double not null, \`predicted_max_ms\` double not null, \`validation_configs\` integer not null, \`mape\` double not null, \`within5\` double not null, \`within10\` double not null, \`uncalibrated_mape\` double not null, \`validation_rows\` json not null, constraint \`latency_table_device_id_foreign\` foreign key(\`device_id\`) references \`device\`(\`id\`) on update cascade, constraint \`latency_table_search_space_id_foreign\` foreign key(\`search_space_id\`) references \`search_space\`(\`id\`) on update cascade, constraint \`latency_table_artifact_id_foreign\` foreign key(\`artifact_id\`) references \`artifact\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`latency_table_device_id_index\` on \`latency_table\` (\`device_id\`);`);
    this.addSql(`create index \`latency_table_search_space_id_index\` on \`latency_table\` (\`search_space_id\`);`);
    this.addSql(`create unique index \`latency_table_job_id_unique\` on \`latency_table\` (\`job_id\`);`);
    this.addSql(`create index \`latency_table_artifact_id_index\` on \`latency_table\` (\`artifact_id\`);`);
    this.addSql(`create unique index \`latency_table_device_id_search_space_id_version_unique\` on \`latency_table\` (\`device_id\`, \`search_space_id\`, \`version\`);`);

    this.addSql(`create table \`latency_measurement\` (\`id\` text not null, \`created_at\` datetime not null, \`device_id\` text not null, \`search_space_id\` text not null, \`candidate_id\` text null, \`job_id\` text not null, \`config_hash\` text not null, \`channels\` json not null, \`batch_size\` integer not null, \`median_ms\` double not null, \`p10ms\` double not null, \`p90ms\` double not null, \`mean_ms\` double not null, \`std_ms\` double not null, \`warmup_runs\` integer not null, \`timed_runs\` integer not null, \`attempts\` integer not null, \`noisy\` integer not null, \`predicted_ms\` double null, constraint \`latency_measurement_device_id_foreign\` foreign key(\`device_id\`) references \`device\`(\`id\`) on update cascade, constraint \`latency_measurement_search_space_id_foreign\` foreign key(\`search_space_id\`) references \`search_space\`(\`id\`) on update cascade, constraint \`latency_measurement_candidate_id_foreign\` foreign key(\`candidate_id\`) references \`candidate\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`latency_measurement_device_id_index\` on \`latency_measurement\` (\`device_id\`);`);
    this.addSql(`create index \`latency_measurement_search_space_id_index\` on \`latency_measurement\` (\`search_space_id\`);`);
    this.addSql(`create unique index \`latency_measurement_job_id_unique\` on \`latency_measurement\` (\`job_id\`);`);
    this.addSql(`create index \`latency_measurement_candidate_id_index\` on \`latency_measurement\` (\`candidate_id\`);`);

    this.addSql(`alter table \`job\` add column \`device_fingerprint\` text null;`);

    this.addSql(`alter table \`slimming_trajectory\` add column \`latency_table_id\` text null constraint \`slimming_trajectory_latency_table_id_foreign\` references \`latency_table\` (\`id\`) on update cascade on delete set null;`);
    this.addSql(`create index \`slimming_trajectory_latency_table_id_index\` on \`slimming_trajectory\` (\`latency_table_id\`);`);

    this.addSql(`alter table \`candidate\` add column \`latency_target_missed\` integer null;`);
  }

}
