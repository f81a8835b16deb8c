/**
 * Generates the next migration for both dialects from the difference between the entities and a
 * scratch database migrated to the current head. Run after changing an entity:
 *   npm run build && node dist/server/db/make-migration.js
 * then list the new files in migrations/index.ts. Landed migrations are never edited.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { DatabaseTarget } from '../config';
import { openDatabase } from './orm';

const POSTGRES_ADMIN_URL = process.env.SLIMLAB_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function generate(target: DatabaseTarget, folder: string): Promise<void> {
  const { orm } = await openDatabase(target);
  try {
    const result = await orm.getMigrator().createMigration(resolve(folder));
    console.log(result.fileName ? `${folder}: wrote ${result.fileName}` : `${folder}: schema is up to date`);
  } finally {
    await orm.close(true);
  }
}

async function main(): Promise<void> {
  const sqliteFile = join(tmpdir(), `slimlab-migration-${randomUUID()}.db`);
  try {
    await generate({ kind: 'sqlite', file: sqliteFile }, 'migrations/sqlite');
  } finally {
    rmSync(sqliteFile, { force: true });
  }
  const dbName = `slimlab_migration_${randomUUID().replace(/-/g, '')}`;
  const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  try {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${dbName}`;
    await generate({ kind: 'postgresql', url: url.toString() }, 'migrations/postgresql');
  } finally {
    await admin.query(`DROP DATABASE ${dbName}`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
