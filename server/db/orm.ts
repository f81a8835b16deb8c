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
  const applied = await orm.getMigrator().up();
  return { orm, applied: applied.map((m) => m.name) };
}

export async function initOrm(target: DatabaseTarget): Promise<Orm> {
  if (target.kind === 'sqlite') {
    if (target.file !== ':memory:') mkdirSync(dirname(target.file), { recursive: true });
    return (await SqliteOrm.init(ormOptions(target) as Parameters<typeof SqliteOrm.init>[0])) as unknown as Orm;
  }
  return (await PostgresOrm.init(ormOptions(target) as Parameters<typeof PostgresOrm.init>[0])) as unknown as Orm;
}
