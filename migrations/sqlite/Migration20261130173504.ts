import { Migration } from '@mikro-orm/migrations';

/**
 * The dataset a training run trains on, part of its protocol. Existing runs take it from where it
 * was already written: a retraining's RETRAIN job payload, a supernet run's supernet.
 */
export class Migration20261130173504 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table \`training_run\` add column \`dataset_id\` text null;`);
    this.addSql(
      `update \`training_run\` set \`dataset_id\` = (select json_extract(\`job\`.\`payload\`, '$.datasetId') from \`job\` where \`job\`.\`kind\` = 'RETRAIN' and \`job\`.\`subject_type\` = 'TrainingRun' and \`job\`.\`subject_id\` = \`training_run\`.\`id\` order by \`job\`.\`created_at\` limit 1) where \`kind\` = 'RETRAIN';`,
    );
    this.addSql(
      `update \`training_run\` set \`dataset_id\` = (select \`supernet\`.\`dataset_id\` from \`supernet\` where \`supernet\`.\`run_id\` = \`training_run\`.\`id\`) where \`kind\` = 'SUPERNET';`,
    );
  }
}
