import { Migration } from '@mikro-orm/migrations';

export class Migration20261128070041 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "job" drop constraint if exists "job_kind_check";`);

    this.addSql(`alter table "job" add constraint "job_kind_check" check("kind" in ('TRAIN_SUPERNET', 'SLIM', 'RETRAIN', 'PROFILE_LATENCY', 'EVALUATE', 'EXPORT'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "job" drop constraint if exists "job_kind_check";`);

    this.addSql(`alter table "job" add constraint "job_kind_check" check("kind" in ('TRAIN_SUPERNET', 'SLIM', 'RETRAIN', 'PROFILE_LATENCY', 'EVALUATE'));`);
  }

}
