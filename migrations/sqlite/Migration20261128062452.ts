import { Migration } from '@mikro-orm/migrations';

export class Migration20261128062452 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`executor\` (\`id\` text not null, \`created_at\` datetime not null, \`name\` text not null, \`worker_id\` text not null, \`kinds\` json not null, \`backend\` text not null, \`provider\` text not null, \`device\` text not null, \`versions\` json not null, \`note\` text null, \`host\` text not null, \`pid\` integer not null, \`last_seen_at\` datetime not null, \`online\` integer not null default true, primary key (\`id\`));`);

    this.addSql(`create table \`project\` (\`id\` text not null, \`created_at\` datetime not null, \`name\` text not null, \`description\` text null, primary key (\`id\`));`);
    this.addSql(`create unique index \`project_name_unique\` on \`project\` (\`name\`);`);

    this.addSql(`create table \`job\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`kind\` text check (\`kind\` in ('TRAIN_SUPERNET', 'SLIM', 'RETRAIN', 'PROFILE_LATENCY', 'EVALUATE')) not null, \`state\` text check (\`state\` in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \`payload\` json not null, \`result\` json null, \`resume_state\` json null, \`attempts\` integer not null default 0, \`max_attempts\` integer not null default 3, \`progress\` double not null default 0, \`progress_message\` text null, \`error\` text null, \`cancel_requested\` integer not null default false, \`executor_name\` text null, \`backend\` text null, \`provider\` text null, \`device\` text null, \`executor_note\` text null, \`worker_id\` text null, \`heartbeat_at\` datetime null, \`started_at\` datetime null, \`finished_at\` datetime null, \`subject_type\` text null, \`subject_id\` text null, constraint \`job_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`job_project_id_index\` on \`job\` (\`project_id\`);`);
    this.addSql(`create index \`job_state_kind_index\` on \`job\` (\`state\`, \`kind\`);`);

    this.addSql(`create table \`dataset\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`name\` text not null, \`format\` text check (\`format\` in ('IDX', 'IMAGE_FOLDER', 'SYNTHETIC')) not null, \`uri\` text not null, \`input_channels\` integer not null, \`input_height\` integer not null, \`input_width\` integer not null, \`num_classes\` integer not null, \`class_names\` json null, \`train_size\` integer not null, \`test_size\` integer not null, \`search_fraction\` double not null, \`split_seed\` integer not null, \`split_digest\` text null, \`search_size\` integer null, constraint \`dataset_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`dataset_project_id_index\` on \`dataset\` (\`project_id\`);`);
    this.addSql(`create unique index \`dataset_project_id_name_unique\` on \`dataset\` (\`project_id\`, \`name\`);`);

    this.addSql(`create table \`artifact\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text null, \`kind\` text check (\`kind\` in ('CHECKPOINT', 'ONNX', 'LATENCY_TABLE', 'DATASET_SPLIT', 'OTHER')) not null, \`name\` text not null, \`uri\` text not null, \`bytes\` bigint not null, \`sha256\` text not null, constraint \`artifact_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`artifact_project_id_index\` on \`artifact\` (\`project_id\`);`);
    this.addSql(`create index \`artifact_sha256_index\` on \`artifact\` (\`sha256\`);`);

    this.addSql(`create table \`search_space\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`name\` text not null, \`architecture\` text not null, \`input_size\` integer not null, \`num_classes\` integer not null, \`max_width\` double not null, \`groups\` integer not null, \`divisor\` integer not null, \`unit_overrides\` json not null, \`max_channels\` json not null, \`units\` json not null, constraint \`search_space_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`search_space_project_id_index\` on \`search_space\` (\`project_id\`);`);
    this.addSql(`create unique index \`search_space_project_id_name_unique\` on \`search_space\` (\`project_id\`, \`name\`);`);

    this.addSql(`create table \`training_run\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`kind\` text check (\`kind\` in ('SUPERNET', 'RETRAIN')) not null, \`status\` text check (\`status\` in ('PENDING', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELLED')) not null default 'PENDING', \`supernet_id\` text null, \`candidate_id\` text null, \`seed\` integer not null, \`recipe\` json not null, \`backend\` text null, \`checkpoint_id\` text null, \`checkpoint_step\` integer null, \`summary\` json null, \`started_at\` datetime null, \`finished_at\` datetime null, constraint \`training_run_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`training_run_checkpoint_id_foreign\` foreign key(\`checkpoint_id\`) references \`artifact\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`training_run_project_id_index\` on \`training_run\` (\`project_id\`);`);
    this.addSql(`create index \`training_run_supernet_id_index\` on \`training_run\` (\`supernet_id\`);`);
    this.addSql(`create index \`training_run_candidate_id_index\` on \`training_run\` (\`candidate_id\`);`);
    this.addSql(`create index \`training_run_checkpoint_id_index\` on \`training_run\` (\`checkpoint_id\`);`);

    this.addSql(`create table \`supernet\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`name\` text not null, \`search_space_id\` text not null, \`dataset_id\` text not null, \`recipe\` json not null, \`run_id\` text not null, constraint \`supernet_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`supernet_search_space_id_foreign\` foreign key(\`search_space_id\`) references \`search_space\`(\`id\`) on update cascade, constraint \`supernet_dataset_id_foreign\` foreign key(\`dataset_id\`) references \`dataset\`(\`id\`) on update cascade, constraint \`supernet_run_id_foreign\` foreign key(\`run_id\`) references \`training_run\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`supernet_project_id_index\` on \`supernet\` (\`project_id\`);`);
    this.addSql(`create index \`supernet_search_space_id_index\` on \`supernet\` (\`search_space_id\`);`);
    this.addSql(`create index \`supernet_dataset_id_index\` on \`supernet\` (\`dataset_id\`);`);
    this.addSql(`create index \`supernet_run_id_index\` on \`supernet\` (\`run_id\`);`);

    this.addSql(`create table \`slimming_trajectory\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`supernet_id\` text not null, \`constraint\` text check (\`constraint\` in ('MACS', 'PARAMS', 'LATENCY')) not null, \`targets\` json not null, \`eval_batch_size\` integer not null, \`eval_seed\` integer not null, \`bn_mode\` text check (\`bn_mode\` in ('BATCH_STATS', 'RECALIBRATED')) not null, \`scoring\` text check (\`scoring\` in ('ACCURACY', 'ACCURACY_DROP_PER_COST')) not null, \`evaluations\` integer not null default 0, \`cache_hits\` integer not null default 0, \`eval_seconds\` double not null default 0, constraint \`slimming_trajectory_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`slimming_trajectory_supernet_id_foreign\` foreign key(\`supernet_id\`) references \`supernet\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`slimming_trajectory_project_id_index\` on \`slimming_trajectory\` (\`project_id\`);`);
    this.addSql(`create index \`slimming_trajectory_supernet_id_index\` on \`slimming_trajectory\` (\`supernet_id\`);`);

    this.addSql(`create table \`slimming_step\` (\`id\` text not null, \`created_at\` datetime not null, \`trajectory_id\` text not null, \`index\` integer not null, \`unit_index\` integer null, \`unit_name\` text null, \`channels\` json not null, \`macs\` double not null, \`params\` double not null, \`predicted_latency_ms\` double null, \`score\` double not null, \`accuracy\` double not null, \`accuracy_drop\` double not null, \`proposals\` json not null, constraint \`slimming_step_trajectory_id_foreign\` foreign key(\`trajectory_id\`) references \`slimming_trajectory\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`slimming_step_trajectory_id_index\` on \`slimming_step\` (\`trajectory_id\`);`);
    this.addSql(`create unique index \`slimming_step_trajectory_id_index_unique\` on \`slimming_step\` (\`trajectory_id\`, \`index\`);`);

    this.addSql(`create table \`candidate\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`search_space_id\` text not null, \`config_hash\` text not null, \`channels\` json not null, \`source\` text check (\`source\` in ('AUTOSLIM', 'UNIFORM', 'IMPORTED')) not null, \`trajectory_id\` text null, \`target\` double null, \`width_multiplier\` double null, \`macs\` double not null, \`params\` double not null, \`search_accuracy\` double null, \`predicted_latency_ms\` double null, \`measured_latency_ms\` double null, \`retrained_top1mean\` double null, \`retrained_top1std\` double null, \`retrained_runs\` integer not null default 0, constraint \`candidate_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on update cascade, constraint \`candidate_search_space_id_foreign\` foreign key(\`search_space_id\`) references \`search_space\`(\`id\`) on update cascade, constraint \`candidate_trajectory_id_foreign\` foreign key(\`trajectory_id\`) references \`slimming_trajectory\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`candidate_project_id_index\` on \`candidate\` (\`project_id\`);`);
    this.addSql(`create index \`candidate_search_space_id_index\` on \`candidate\` (\`search_space_id\`);`);
    this.addSql(`create index \`candidate_trajectory_id_index\` on \`candidate\` (\`trajectory_id\`);`);
    this.addSql(`create index \`candidate_project_id_macs_index\` on \`candidate\` (\`project_id\`, \`macs\`);`);
    this.addSql(`create unique index \`candidate_search_space_id_config_hash_source_unique\` on \`candidate\` (\`search_space_id\`, \`config_hash\`, \`source\`);`);

    this.addSql(`create table \`metric_point\` (\`id\` integer not null primary key autoincrement, \`run_id\` text not null, \`name\` text not null, \`step\` integer not null, \`value\` double not null, \`wall_time\` datetime not null, constraint \`metric_point_run_id_foreign\` foreign key(\`run_id\`) references \`training_run\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`metric_point_run_id_index\` on \`metric_point\` (\`run_id\`);`);
    this.addSql(`create unique index \`metric_point_run_id_name_step_unique\` on \`metric_point\` (\`run_id\`, \`name\`, \`step\`);`);
  }

}
