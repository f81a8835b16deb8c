import { Migration } from '@mikro-orm/migrations';

/**
 * Every trajectory's pick of a configuration for a budget, also when another trajectory found the
 * configuration first; the AutoSlim candidates stored so far become their own trajectory's picks.
 */
export class Migration20261130174019 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table \`trajectory_pick\` (\`id\` text not null, \`created_at\` datetime not null, \`trajectory_id\` text not null, \`candidate_id\` text not null, \`target\` double not null, \`search_accuracy\` double not null, \`step\` integer null, \`predicted_latency_ms\` double null, constraint \`trajectory_pick_trajectory_id_foreign\` foreign key(\`trajectory_id\`) references \`slimming_trajectory\`(\`id\`) on delete cascade on update cascade, constraint \`trajectory_pick_candidate_id_foreign\` foreign key(\`candidate_id\`) references \`candidate\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`trajectory_pick_trajectory_id_index\` on \`trajectory_pick\` (\`trajectory_id\`);`);
    this.addSql(`create index \`trajectory_pick_candidate_id_index\` on \`trajectory_pick\` (\`candidate_id\`);`);
    this.addSql(`create unique index \`trajectory_pick_trajectory_id_target_unique\` on \`trajectory_pick\` (\`trajectory_id\`, \`target\`);`);
    // A random version-4 UUID per row; the step is the one whose channels are the candidate's,
    // both stored as the same JSON text. Should two candidates share a trajectory and a target,
    // the earlier keeps the pick.
    this.addSql(
      `insert into \`trajectory_pick\` (\`id\`, \`created_at\`, \`trajectory_id\`, \`candidate_id\`, \`target\`, \`search_accuracy\`, \`step\`, \`predicted_latency_ms\`) ` +
        `select lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), ` +
        `c.\`created_at\`, c.\`trajectory_id\`, c.\`id\`, c.\`target\`, c.\`search_accuracy\`, ` +
        `(select min(s.\`index\`) from \`slimming_step\` s where s.\`trajectory_id\` = c.\`trajectory_id\` and s.\`channels\` = c.\`channels\`), c.\`predicted_latency_ms\` ` +
        `from \`candidate\` c where c.\`source\` = 'AUTOSLIM' and c.\`trajectory_id\` is not null and c.\`target\` is not null and c.\`search_accuracy\` is not null ` +
        `and not exists (select 1 from \`candidate\` o where o.\`trajectory_id\` = c.\`trajectory_id\` and o.\`target\` = c.\`target\` and (o.\`created_at\` < c.\`created_at\` or (o.\`created_at\` = c.\`created_at\` and o.\`id\` < c.\`id\`)));`,
    );
  }
}
