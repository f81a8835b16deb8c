import { Migration } from '@mikro-orm/migrations';

/** Runs recorded before a run took its backend from its job's executor get it from the job now. */
export class Migration20261130201500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `update training_run set backend = (select j.backend from job j where j.subject_id = training_run.id and j.backend is not null order by j.started_at desc limit 1) where backend is null;`,
    );
  }
}
