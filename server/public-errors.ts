import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../executors/contract';
import { conflictOf } from './db/unique-keys';
import { variableError } from './variable-errors';

export const INTERNAL_MESSAGE = 'internal server error; the server log has the details';

/**
 * What a client may see of an error. GraphQL errors (ours name a field and a rule; graphql-js's
 * describe the request) pass as they are, variable coercion errors made to name their field; a
 * unique-key violation becomes the CONFLICT it means; anything else is a bug or an outage whose
 * message can carry SQL and values of other users, so the client gets a generic message and the
 * log gets the error.
 */
export function publicError(formatted: GraphQLFormattedError, error: unknown, log: Logger): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof GraphQLError) return variableError(formatted, original);
  const conflict = conflictOf(original);
  if (conflict) return { ...conflict.toJSON(), locations: formatted.locations, path: formatted.path };
  const at = formatted.path ? ` at ${formatted.path.join('.')}` : '';
  log.warn(`internal error${at}: ${original instanceof Error ? (original.stack ?? original.message) : String(original)}`);
  return { message: INTERNAL_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
