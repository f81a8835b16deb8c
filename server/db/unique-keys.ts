import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { userError } from '../errors';

/**
 * The unique keys a user can collide with, and the input field each collision is about. Services
 * check for a duplicate before they insert, but two requests can both pass that check; the
 * database's key then refuses the second, and this turns the refusal into the same CONFLICT the
 * check would have given.
 */
interface UniqueKey {
  readonly table: string;
  readonly columns: readonly string[];
  readonly field: string;
  readonly message: string;
}

const KEYS: readonly UniqueKey[] = [
  { table: 'project', columns: ['name'], field: 'input.name', message: 'a project with this name already exists' },
  { table: 'dataset', columns: ['project_id', 'name'], field: 'input.name', message: 'project already has a dataset with this name' },
  { table: 'search_space', columns: ['project_id', 'name'], field: 'input.name', message: 'project already has a search space with this name' },
];

/** The CONFLICT error a unique-key violation means to the user, or null for any other error. */
export function conflictOf(error: unknown): GraphQLError | null {
  if (!(error instanceof UniqueConstraintViolationException)) return null;
  const key = KEYS.find((k) => violates(error, k));
  return key ? userError('CONFLICT', key.field, key.message) : null;
}

function violates(error: UniqueConstraintViolationException & { constraint?: string }, key: UniqueKey): boolean {
  // PostgreSQL names the constraint (MikroORM names it table_columns_unique on both dialects);
  // SQLite only lists the columns in its message.
  if (error.constraint) return error.constraint === `${key.table}_${key.columns.join('_')}_unique`;
  return error.message.includes(`UNIQUE constraint failed: ${key.columns.map((c) => `${key.table}.${c}`).join(', ')}`);
}
