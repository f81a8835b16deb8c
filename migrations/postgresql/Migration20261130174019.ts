import { Migration } from '@mikro-orm/migrations';

/**
 * Every trajectory's pick of a configuration for a budget, also when another trajectory found the
 * configuration first; the AutoSlim candidates stored so far become their own trajectory's picks.
 */
export class Migration20261130174019 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "trajectory_pick" ("id" uuid not null, "created_at" timestamptz not null, "trajectory_id" uuid not null, "candidate_id" uuid not null, "target" double precision not null, "search_accuracy" double precision not null, "step" int null, "predicted_latency_ms" double precision null, constraint "trajectory_pick_pkey" primary key ("id"));`);
    this.addSql(`alter table "trajectory_pick" add constraint "trajectory_pick_trajectory_id_target_unique" unique ("trajectory_id", "target");`);
    this.addSql(`alter table "trajectory_pick" add constraint "trajectory_pick_trajectory_id_foreign" foreign key ("trajectory_id") references "slimming_trajectory" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "trajectory_pick" add constraint "trajectory_pick_candidate_id_foreign" foreign key ("candidate_id") references "candidate" ("id") on update cascade on delete cascade;`);
    // The step is the one whose channels are the candidate's. Should two candidates share a
    // trajectory and a target, the earlier keeps the pick.
    this.addSql(
      `insert into "trajectory_pick" ("id", "created_at", "trajectory_id", "candidate_id", "target", "search_accuracy", "step", "predicted_latency_ms") ` +
        `select gen_random_uuid(), c."created_at", c."trajectory_id", c."id", c."target", c."search_accuracy", ` +
        `(select min(s."index") from "slimming_step" s where s."trajectory_id" = c."trajectory_id" and s."channels" = c."channels"), c."predicted_latency_ms" ` +
        `from "candidate" c where c."source" = 'AUTOSLIM' and c."trajectory_id" is not null and c."target" is not null and c."search_accuracy" is not null ` +
        `and not exists (select 1 from "candidate" o where o."trajectory_id" = c."trajectory_id" and o."target" = c."target" and (o."created_at", o."id") < (c."created_at", c."id"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "trajectory_pick" cascade;`);
  }
}
