import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MikroORM as SqliteOrm } from '@mikro-orm/better-sqlite';
import type { Options } from '@mikro-orm/core';
import type { AbstractSqlDriver } from '@mikro-orm/knex';
import { MikroORM as PostgresOrm } from '@mikro-orm/postgresql';
import type { MikroORM } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { DatabaseTarget } from '../config';
import { ENTITIES } from '../entities';
import { checkPostgres } from './preflight';
import { POSTGRESQL_MIGRATIONS, SQLITE_MIGRATIONS } from '../../migrations';

export type Orm = MikroORM<AbstractSqlDriver>;

/** MikroORM options for a target; shared by the server and the migration generator. */
export function ormOptions(target: DatabaseTarget): Options {
  const common: Options = {
    entities: ENTITIES,
    extensions: [Migrator],
    debug: false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    migrations: {
      silent: true,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      path: `migrations/${target.kind}`,
      pathTs: `migrations/${target.kind}`,
      migrationsList: target.kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRESQL_MIGRATIONS,
    },
  };
  // checkPostgres has made sure the database exists, and no one else may create it.
  return target.kind === 'sqlite' ? { ...common, dbName: target.file } : { ...common, clientUrl: target.url, ensureDatabase: false };
}

/** Opens the database and applies pending migrations; the schema is always current after this. */
export async function openDatabase(target: DatabaseTarget): Promise<{ orm: Orm; applied: string[] }> {
  if (target.kind === 'postgresql') await checkPostgres(target.url);
  const orm = await initOrm(target);
  const applied = target.kind === 'sqlite' ? await migrateSqlite(orm) : await orm.getMigrator().up();
  return { orm, applied: applied.map((m) => m.name) };
}

/**
 * SQLite changes a constraint by rebuilding the table, and with foreign keys on, dropping a table
 * that others refer to fails (or runs their ON DELETE actions). Its documented procedure turns them
 * off for the change, which only takes effect outside a transaction: so around the migrations, and
 * every reference is checked before they are turned on again.
 */
async function migrateSqlite(orm: Orm) {
  const connection = orm.em.getConnection();
  await connection.execute('pragma foreign_keys = off');
  try {
    const applied = await orm.getMigrator().up();
    const broken = await connection.execute<{ table: string; parent: string }[]>('pragma foreign_key_check');
    if (broken.length > 0) {
      throw new Error(`after migrating, ${broken.length} row(s) refer to rows that do not exist (first: a row of ${broken[0]!.table} to ${broken[0]!.parent})`);
    }
    return applied;
  } finally {
    await connection.execute('pragma foreign_keys = on');
  }
}

export async function initOrm(target: DatabaseTarget): Promise<Orm> {
  if (target.kind === 'sqlite') {
    if (target.file !== ':memory:') mkdirSync(dirname(target.file), { recursive: true });
    return (await SqliteOrm.init(ormOptions(target) as Parameters<typeof SqliteOrm.init>[0])) as unknown as Orm;
  }
  return (await PostgresOrm.init(ormOptions(target) as Parameters<typeof PostgresOrm.init>[0])) as unknown as Orm;
}
