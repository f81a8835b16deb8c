import type { EntityManager, Knex } from '@mikro-orm/knex';
import type { ClientBase, QueryResult } from 'pg';

/**
 * Runs `$1`-style SQL on the PostgreSQL connection of the caller's MikroORM transaction, so it
 * commits or rolls back with the caller's rows. knex's own query path would rewrite `?`
 * placeholders, so the SQL goes straight to the pg client knex holds for this transaction (a knex
 * transaction client always hands out that one connection).
 */
export function transactionQuery(em: EntityManager): (text: string, values?: unknown[]) => Promise<QueryResult> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new Error('this runs inside the caller\'s transaction: call it from em.transactional()');
  return async (text, values) => {
    // Past commit or rollback the connection is back in the pool, serving someone else.
    if (trx.isCompleted()) throw new Error('the transaction this statement belongs to has already ended');
    const connection: ClientBase = await trx.client.acquireConnection();
    return connection.query(text, values);
  };
}
