import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DatabaseTarget } from '../../server/config';

export type DatabaseKind = DatabaseTarget['kind'];

/** Every server test runs on both: the embedded default and PostgreSQL. */
export const DATABASES: readonly DatabaseKind[] = ['sqlite', 'postgresql'];

const ADMIN_URL = process.env.SLIMLAB_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  readonly target: DatabaseTarget;
  drop(): Promise<void>;
}

/** A new, empty database of the given kind, dropped afterwards. */
export async function scratchDatabase(kind: DatabaseKind): Promise<ScratchDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'slimlab-db-'));
    return { target: { kind, file: join(dir, 'slimlab.db') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `slimlab_test_${randomUUID().replace(/-/g, '')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    target: { kind, url: url.toString() },
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A PostgreSQL database URL on the test server (which need not exist), and whether it exists. */
export function postgresUrl(database: string, password?: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  if (password) url.password = password;
  return url.toString();
}

export async function postgresDatabaseExists(database: string): Promise<boolean> {
  const { rows } = await withAdmin((admin) => admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]));
  return rows.length > 0;
}

async function withAdmin<T>(work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
