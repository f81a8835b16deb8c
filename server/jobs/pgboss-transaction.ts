import type { EntityManager, Knex } from '@mikro-orm/knex';
import type { ClientBase, QueryResult } from 'pg';
import type PgBoss from 'pg-boss';

/**
 * pg-boss's `db` option backed by the caller's MikroORM transaction, so pg-boss's SQL commits or
 * rolls back together with slimlab's rows. pg-boss writes `$1`-style SQL for node-postgres; knex's
 * own query path rewrites `?` placeholders, so the SQL goes straight to the pg client that knex
 * holds for this transaction (a knex transaction client always hands out that one connection).
 */
export function transactionDb(em: EntityManager): PgBoss.Db & { executeSql(text: string, values?: unknown[]): Promise<QueryResult> } {
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new Error('the PostgreSQL job queue runs inside the caller\'s transaction: call it from em.transactional()');
  return {
    async executeSql(text: string, values?: unknown[]) {
      // Past commit or rollback the connection is back in the pool, serving someone else.
      if (trx.isCompleted()) throw new Error('the transaction this queue operation belongs to has already ended');
      const connection: ClientBase = await trx.client.acquireConnection();
      return connection.query(text, values);
    },
  };
}
