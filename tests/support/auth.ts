import { TokenScope } from '../../schema/enums';
import { createToken } from '../../server/auth/users';
import type { Orm } from '../../server/db/orm';
import { User } from '../../server/entities';
import type { GraphQLResponse } from './server';

/** A new API token of `userId` with exactly `scopes`, made in the database as `slimlab admin create-token` does. */
export async function tokenFor(orm: Orm, userId: string, scopes: readonly TokenScope[], name = `t-${scopes.join('-')}-${Date.now()}`): Promise<string> {
  const em = orm.em.fork();
  const user = await em.findOneOrFail(User, { id: userId });
  return (await createToken(em, user, { name, scopes, expiresInDays: null })).secret;
}

/** What a POST /graphql answered: the HTTP status and the parsed body. */
export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: GraphQLResponse<T>;
}

/**
 * Sends one GraphQL operation over HTTP with `token` (none: no Authorization header). `rawBody`
 * replaces the JSON the client would write, for numbers JSON.stringify cannot spell (1e999).
 */
export async function post<T = Record<string, unknown>>(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  rawBody?: string,
): Promise<Answer<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: rawBody ?? JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    throw new Error(`HTTP ${res.status} answered something that is not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body };
}
