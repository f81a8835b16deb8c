import { randomUUID } from 'node:crypto';
import type { Orm } from '../../server/db/orm';
import { initOrm, openDatabase } from '../../server/db/orm';
import { DATABASES, scratchDatabase, type DatabaseKind } from '../support/databases';

describe.each(DATABASES)('migrations on %s', (kind) => {
  it('bring an empty database to the schema the entities describe, once', async () => {
    const scratch = await scratchDatabase(kind);
    const { orm, applied } = await openDatabase(scratch.target);
    try {
      expect(applied.length).toBeGreaterThan(0);
      await expectSchemaMatchesEntities(orm, kind);
      expect(await orm.getMigrator().up()).toEqual([]);
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });

  it('let an existing database take CIFAR datasets, keeping its datasets and the supernets on them', async () => {
    const scratch = await scratchDatabase(kind);
    const ids = { project: randomUUID(), dataset: randomUUID(), space: randomUUID(), run: randomUUID(), supernet: randomUUID(), cifar: randomUUID() };
    const now = new Date().toISOString();
    const early = await initOrm(scratch.target);
    try {
      await early.getMigrator().up({ to: BEFORE_CIFAR[kind] });
      const sql = early.em.getConnection();
      await sql.execute('insert into project (id, created_at, name) values (?, ?, ?)', [ids.project, now, 'p']);
      await sql.execute(
        'insert into dataset (id, created_at, project_id, name, format, uri, input_channels, input_height, input_width, num_classes, train_size, test_size, search_fraction, split_seed) values (?, ?, ?, ?, ?, ?, 1, 28, 28, 10, 100, 10, 0.1, 0)',
        [ids.dataset, now, ids.project, 'fmnist', 'IDX', '/data/fmnist'],
      );
      await sql.execute(
        "insert into search_space (id, created_at, project_id, name, architecture, input_size, num_classes, max_width, groups, divisor, unit_overrides, max_channels, units) values (?, ?, ?, 's', 'mbv2', 28, 10, 1, 1, 8, '{}', '[]', '[]')",
        [ids.space, now, ids.project],
      );
      await sql.execute("insert into training_run (id, created_at, project_id, kind, seed, recipe) values (?, ?, ?, 'SUPERNET', 0, '{}')", [ids.run, now, ids.project]);
      await sql.execute("insert into supernet (id, created_at, project_id, name, search_space_id, dataset_id, recipe, run_id) values (?, ?, ?, 'n', ?, ?, '{}', ?)", [
        ids.supernet,
        now,
        ids.project,
        ids.space,
        ids.dataset,
        ids.run,
      ]);
    } finally {
      await early.close(true);
    }
    const { orm } = await openDatabase(scratch.target);
    try {
      const sql = orm.em.getConnection();
      expect(await sql.execute('select dataset_id from supernet')).toEqual([{ dataset_id: ids.dataset }]);
      await sql.execute(
        'insert into dataset (id, created_at, project_id, name, format, uri, input_channels, input_height, input_width, num_classes, train_size, test_size, search_fraction, split_seed) values (?, ?, ?, ?, ?, ?, 3, 32, 32, 10, 100, 10, 0.1, 0)',
        [ids.cifar, now, ids.project, 'cifar', 'CIFAR', '/data/cifar'],
      );
      expect((await sql.execute<{ format: string }[]>('select format from dataset order by name')).map((row) => row.format)).toEqual(['CIFAR', 'IDX']);
      // The rebuilt table still enforces what it did: the format check and the supernet's reference.
      const refusal = (statement: string, params: unknown[]) => sql.execute(statement, params).then(() => 'accepted', (error: unknown) => String((error as Error).message ?? error));
      expect(await refusal("update dataset set format = 'TFRECORD' where id = ?", [ids.cifar])).toMatch(/check constraint/i);
      expect(await refusal('delete from dataset where id = ?', [ids.dataset])).toMatch(/foreign key/i);
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });

  it('let an existing database take SAMPLED candidates and inherited accuracy, keeping its candidates', async () => {
    const scratch = await scratchDatabase(kind);
    const ids = { project: randomUUID(), space: randomUUID(), candidate: randomUUID(), sampled: randomUUID() };
    const now = new Date().toISOString();
    const early = await initOrm(scratch.target);
    try {
      await early.getMigrator().up({ to: BEFORE_RANKING_STUDIES[kind] });
      const sql = early.em.getConnection();
      await sql.execute('insert into project (id, created_at, name) values (?, ?, ?)', [ids.project, now, 'p']);
      await sql.execute(
        "insert into search_space (id, created_at, project_id, name, architecture, input_size, num_classes, max_width, groups, divisor, unit_overrides, max_channels, units) values (?, ?, ?, 's', 'mbv2', 28, 10, 1, 1, 8, '{}', '[]', '[]')",
        [ids.space, now, ids.project],
      );
      await sql.execute(
        "insert into candidate (id, created_at, project_id, search_space_id, config_hash, channels, source, macs, params, retrained_top1mean, retrained_runs) values (?, ?, ?, ?, 'h', '[8]', 'UNIFORM', 1, 2, 0.9, 1)",
        [ids.candidate, now, ids.project, ids.space],
      );
    } finally {
      await early.close(true);
    }
    const { orm } = await openDatabase(scratch.target);
    try {
      const sql = orm.em.getConnection();
      expect(await sql.execute('select source, retrained_top1mean, retrained_runs, inherited_top1, inherited_from_id from candidate')).toEqual([
        { source: 'UNIFORM', retrained_top1mean: 0.9, retrained_runs: 1, inherited_top1: null, inherited_from_id: null },
      ]);
      await sql.execute(
        "insert into candidate (id, created_at, project_id, search_space_id, config_hash, channels, source, macs, params) values (?, ?, ?, ?, 'h', '[8]', 'SAMPLED', 1, 2)",
        [ids.sampled, now, ids.project, ids.space],
      );
      const refusal = (statement: string, params: unknown[]) => sql.execute(statement, params).then(() => 'accepted', (error: unknown) => String((error as Error).message ?? error));
      expect(await refusal("update candidate set source = 'GUESSED' where id = ?", [ids.sampled])).toMatch(/check constraint/i);
      expect(await refusal('update candidate set inherited_from_id = ? where id = ?', [randomUUID(), ids.sampled])).toMatch(/foreign key/i);
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });

  it("turn an existing database's AutoSlim candidates into their trajectory's picks", async () => {
    const scratch = await scratchDatabase(kind);
    const ids = {
      project: randomUUID(),
      dataset: randomUUID(),
      space: randomUUID(),
      run: randomUUID(),
      supernet: randomUUID(),
      trajectory: randomUUID(),
      wide: randomUUID(),
      narrow: randomUUID(),
      uniform: randomUUID(),
    };
    const now = new Date().toISOString();
    const early = await initOrm(scratch.target);
    try {
      await early.getMigrator().up({ to: BEFORE_PICKS[kind] });
      const sql = early.em.getConnection();
      await sql.execute('insert into project (id, created_at, name) values (?, ?, ?)', [ids.project, now, 'p']);
      await sql.execute(
        "insert into dataset (id, created_at, project_id, name, format, uri, input_channels, input_height, input_width, num_classes, train_size, test_size, search_fraction, split_seed) values (?, ?, ?, 'd', 'SYNTHETIC', 'synthetic:', 1, 28, 28, 10, 100, 10, 0.1, 0)",
        [ids.dataset, now, ids.project],
      );
      await sql.execute(
        "insert into search_space (id, created_at, project_id, name, architecture, input_size, num_classes, max_width, groups, divisor, unit_overrides, max_channels, units) values (?, ?, ?, 's', 'mbv2', 28, 10, 1, 1, 8, '{}', '[]', '[]')",
        [ids.space, now, ids.project],
      );
      await sql.execute("insert into training_run (id, created_at, project_id, kind, seed, recipe) values (?, ?, ?, 'SUPERNET', 0, '{}')", [ids.run, now, ids.project]);
      await sql.execute("insert into supernet (id, created_at, project_id, name, search_space_id, dataset_id, recipe, run_id) values (?, ?, ?, 'n', ?, ?, '{}', ?)", [
        ids.supernet,
        now,
        ids.project,
        ids.space,
        ids.dataset,
        ids.run,
      ]);
      await sql.execute(
        `insert into slimming_trajectory (id, created_at, project_id, supernet_id, "constraint", targets, eval_batch_size, eval_seed, bn_mode, scoring) values (?, ?, ?, ?, 'MACS', '[8, 4]', 32, 0, 'BATCH_STATS', 'ACCURACY')`,
        [ids.trajectory, now, ids.project, ids.supernet],
      );
      for (const [index, channels] of [[0, '[16,16]'], [3, '[16,8]']] as const) {
        await sql.execute(
          `insert into slimming_step (id, created_at, trajectory_id, "index", channels, macs, params, score, accuracy, accuracy_drop, proposals) values (?, ?, ?, ?, ?, 1, 1, 0.5, 0.5, 0, '[]')`,
          [randomUUID(), now, ids.trajectory, index, channels],
        );
      }
      const candidate = (id: string, hash: string, channels: string, source: string, trajectory: string | null, target: number | null, accuracy: number | null) =>
        sql.execute(
          'insert into candidate (id, created_at, project_id, search_space_id, config_hash, channels, source, trajectory_id, target, macs, params, search_accuracy) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 2, ?)',
          [id, now, ids.project, ids.space, hash, channels, source, trajectory, target, accuracy],
        );
      await candidate(ids.wide, 'wide', '[16,8]', 'AUTOSLIM', ids.trajectory, 8, 0.75);
      await candidate(ids.narrow, 'narrow', '[8,8]', 'AUTOSLIM', ids.trajectory, 4, 0.5);
      await candidate(ids.uniform, 'uniform', '[8,8]', 'UNIFORM', null, null, null);
    } finally {
      await early.close(true);
    }
    const { orm } = await openDatabase(scratch.target);
    try {
      const sql = orm.em.getConnection();
      const picks = await sql.execute<{ id: string; trajectory_id: string; candidate_id: string; target: number; search_accuracy: number; step: number | null }[]>(
        'select id, trajectory_id, candidate_id, target, search_accuracy, step from trajectory_pick order by target desc',
      );
      expect(picks.map(({ id: _id, ...pick }) => pick)).toEqual([
        { trajectory_id: ids.trajectory, candidate_id: ids.wide, target: 8, search_accuracy: 0.75, step: 3 },
        // No step of the trajectory has these channels.
        { trajectory_id: ids.trajectory, candidate_id: ids.narrow, target: 4, search_accuracy: 0.5, step: null },
      ]);
      for (const { id } of picks) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(picks[0]!.id).not.toBe(picks[1]!.id);
      const refusal = (statement: string, params: unknown[]) => sql.execute(statement, params).then(() => 'accepted', (error: unknown) => String((error as Error).message ?? error));
      expect(await refusal('insert into trajectory_pick (id, created_at, trajectory_id, candidate_id, target, search_accuracy) values (?, ?, ?, ?, 8, 0.1)', [randomUUID(), now, ids.trajectory, ids.uniform])).toMatch(/unique/i);
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });

  it('give existing training runs the dataset they trained on: a retraining its job\'s, a supernet run its supernet\'s', async () => {
    const scratch = await scratchDatabase(kind);
    const ids = { project: randomUUID(), dataset: randomUUID(), other: randomUUID(), space: randomUUID(), run: randomUUID(), supernet: randomUUID(), retrain: randomUUID(), orphan: randomUUID(), job: randomUUID() };
    const now = new Date().toISOString();
    const early = await initOrm(scratch.target);
    try {
      await early.getMigrator().up({ to: BEFORE_RUN_DATASET[kind] });
      const sql = early.em.getConnection();
      await sql.execute('insert into project (id, created_at, name) values (?, ?, ?)', [ids.project, now, 'p']);
      for (const [id, name] of [[ids.dataset, 'a'], [ids.other, 'b']]) {
        await sql.execute(
          "insert into dataset (id, created_at, project_id, name, format, uri, input_channels, input_height, input_width, num_classes, train_size, test_size, search_fraction, split_seed) values (?, ?, ?, ?, 'SYNTHETIC', 'synthetic:', 1, 28, 28, 10, 100, 10, 0.1, 0)",
          [id, now, ids.project, name],
        );
      }
      await sql.execute(
        "insert into search_space (id, created_at, project_id, name, architecture, input_size, num_classes, max_width, groups, divisor, unit_overrides, max_channels, units) values (?, ?, ?, 's', 'mbv2', 28, 10, 1, 1, 8, '{}', '[]', '[]')",
        [ids.space, now, ids.project],
      );
      for (const [id, runKind] of [[ids.run, 'SUPERNET'], [ids.retrain, 'RETRAIN'], [ids.orphan, 'RETRAIN']]) {
        await sql.execute("insert into training_run (id, created_at, project_id, kind, seed, recipe) values (?, ?, ?, ?, 0, '{}')", [id, now, ids.project, runKind]);
      }
      await sql.execute("insert into supernet (id, created_at, project_id, name, search_space_id, dataset_id, recipe, run_id) values (?, ?, ?, 'n', ?, ?, '{}', ?)", [
        ids.supernet,
        now,
        ids.project,
        ids.space,
        ids.dataset,
        ids.run,
      ]);
      await sql.execute("insert into job (id, created_at, project_id, kind, payload, subject_type, subject_id) values (?, ?, ?, 'RETRAIN', ?, 'TrainingRun', ?)", [
        ids.job,
        now,
        ids.project,
        JSON.stringify({ runId: ids.retrain, datasetId: ids.other }),
        ids.retrain,
      ]);
    } finally {
      await early.close(true);
    }
    const { orm } = await openDatabase(scratch.target);
    try {
      const rows = await orm.em.getConnection().execute<{ id: string; dataset_id: string | null }[]>('select id, dataset_id from training_run');
      expect(Object.fromEntries(rows.map((r) => [r.id, r.dataset_id]))).toEqual({ [ids.run]: ids.dataset, [ids.retrain]: ids.other, [ids.orphan]: null });
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });

  it('give existing training runs the backend their job ran on', async () => {
    const scratch = await scratchDatabase(kind);
    const ids = { project: randomUUID(), ran: randomUUID(), queued: randomUUID(), job: randomUUID(), waiting: randomUUID() };
    const now = new Date().toISOString();
    const early = await initOrm(scratch.target);
    try {
      await early.getMigrator().up({ to: 'Migration20261130200451' });
      const sql = early.em.getConnection();
      await sql.execute('insert into project (id, created_at, name) values (?, ?, ?)', [ids.project, now, 'p']);
      for (const id of [ids.ran, ids.queued]) {
        await sql.execute("insert into training_run (id, created_at, project_id, kind, seed, recipe) values (?, ?, ?, 'RETRAIN', 0, '{}')", [id, now, ids.project]);
      }
      for (const [job, run, backend] of [[ids.job, ids.ran, 'tfjs-wasm'], [ids.waiting, ids.queued, null]]) {
        await sql.execute("insert into job (id, created_at, project_id, kind, payload, subject_type, subject_id, backend) values (?, ?, ?, 'RETRAIN', '{}', 'TrainingRun', ?, ?)", [
          job,
          now,
          ids.project,
          run,
          backend,
        ]);
      }
    } finally {
      await early.close(true);
    }
    const { orm } = await openDatabase(scratch.target);
    try {
      const rows = await orm.em.getConnection().execute<{ id: string; backend: string | null }[]>('select id, backend from training_run');
      expect(Object.fromEntries(rows.map((r) => [r.id, r.backend]))).toEqual({ [ids.ran]: 'tfjs-wasm', [ids.queued]: null });
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });
});

/** The last migration before trajectory picks, per dialect. */
const BEFORE_PICKS: Readonly<Record<DatabaseKind, string>> = { sqlite: 'Migration20261130173504', postgresql: 'Migration20261130173504' };

/** The last migration before the ranking studies, per dialect. */
const BEFORE_RANKING_STUDIES: Readonly<Record<DatabaseKind, string>> = { sqlite: 'Migration20261130135104', postgresql: 'Migration20261130135104' };

/** The last migration before DatasetFormat.CIFAR, per dialect. */
const BEFORE_CIFAR: Readonly<Record<DatabaseKind, string>> = { sqlite: 'Migration20261130101628', postgresql: 'Migration20261130101629' };

async function expectSchemaMatchesEntities(orm: Orm, kind: DatabaseKind): Promise<void> {
  if (kind === 'postgresql') {
    expect(await orm.getSchemaGenerator().getUpdateSchemaSQL()).toBe('');
    return;
  }
  // MikroORM's SQLite comparator always proposes to rebuild tables with check constraints, so
  // here the tables and their columns are compared directly.
  const connection = orm.em.getConnection();
  for (const meta of Object.values(orm.getMetadata().getAll()).filter((m) => !m.abstract && m.tableName)) {
    const columns = await connection.execute<{ name: string }[]>(`pragma table_info(\`${meta.tableName}\`)`);
    const expected = meta.props.flatMap((p) => p.fieldNames ?? []);
    expect({ table: meta.tableName, columns: columns.map((c) => c.name).sort() }).toEqual({ table: meta.tableName, columns: [...expected].sort() });
  }
}

/** The last migration before training runs recorded their dataset, per dialect. */
const BEFORE_RUN_DATASET: Readonly<Record<DatabaseKind, string>> = { sqlite: 'Migration20261130171158', postgresql: 'Migration20261130171158' };
