import { Migration } from '@mikro-orm/migrations';

/** A latency measurement's time against its table's speed reference; earlier ones have none. */
export class Migration20261201030201 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "latency_measurement" add column "undisturbed_ms" double precision null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "latency_measurement" drop column "undisturbed_ms";`);
  }
}
