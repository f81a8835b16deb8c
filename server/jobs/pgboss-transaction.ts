import type { EntityManager } from '@mikro-orm/knex';
import type { QueryResult } from 'pg';
import type PgBoss from 'pg-boss';
import { transactionQuery } from '../db/transaction-client';

/** pg-boss's `db` option backed by the caller's MikroORM transaction, so pg-boss's SQL commits or rolls back together with slimlab's rows. */
export function transactionDb(em: EntityManager): PgBoss.Db & { executeSql(text: string, values?: unknown[]): Promise<QueryResult> } {
  const query = transactionQuery(em);
  return { executeSql: (text: string, values?: unknown[]) => query(text, values) };
}
