import { GraphQLError } from 'graphql';

/** Error codes a client can branch on, in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FAILED_PRECONDITION';

/** An error the user caused; its message names the field and the rule it broke. */
export function userError(code: ErrorCode, field: string, message: string): GraphQLError {
  return new GraphQLError(`${field}: ${message}`, { extensions: { code, field } });
}

export function badInput(field: string, rule: string): GraphQLError {
  return userError('BAD_USER_INPUT', field, rule);
}

export function notFound(field: string, entity: string, id: string): GraphQLError {
  return userError('NOT_FOUND', field, `no ${entity} with id "${id}"`);
}
