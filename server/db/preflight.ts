import { Client } from 'pg';

/** The server cannot use the database SLIMLAB_DATABASE_URL names; the message says why in one line. */
export class DatabaseUnavailableError extends Error {}

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects once to the PostgreSQL database before anything else does, so a wrong URL fails at
 * start with a message naming the variable, and a missing database is never created: MikroORM's
 * migrator would create it silently, and a typo in its name would start on an empty one.
 */
export async function checkPostgres(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A failed connection also emits 'error'; the rejection of connect() reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnavailableError(explain(url, error as Error & { code?: string }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The reason, with host, port, database and user but never the password. */
function explain(url: string, error: Error & { code?: string }): string {
  const { hostname, port, pathname, username } = new URL(url);
  const host = hostname || 'localhost';
  const at = `${host}:${port || '5432'}`;
  const database = decodeURIComponent(pathname.slice(1)) || decodeURIComponent(username) || 'postgres';
  const prefix = `SLIMLAB_DATABASE_URL (PostgreSQL at ${at}, database "${database}")`;
  switch (error.code) {
    case 'ECONNREFUSED':
      return `${prefix}: connection refused; is PostgreSQL running there, and is the port right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${prefix}: host "${host}" is not found`;
    case '3D000':
      return `${prefix}: the database does not exist; create it with \`createdb -h ${host} -p ${port || '5432'}${username ? ` -U ${decodeURIComponent(username)}` : ''} ${database}\` or fix its name (slimlab never creates a database)`;
    default:
      return /timeout/i.test(error.message)
        ? `${prefix}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s`
        : `${prefix}: cannot connect: ${error.message}`;
  }
}
