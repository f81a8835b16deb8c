import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ProjectRole, TokenScope } from '../../schema/enums';
import { addMember, createToken, createUser } from '../../server/auth/users';
import type { Orm } from '../../server/db/orm';
import { User } from '../../server/entities';
import type { GraphQLClient } from './fixtures';
import type { GraphQLResponse, TestServer } from './server';

/** A GraphQL client that sends an API token, as the CLI and the notebook client do. */
export class TokenClient implements GraphQLClient {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async raw<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: GraphQLResponse<T> }> {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLResponse<T> };
  }

  async gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const { body } = await this.raw<T>(query, variables);
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  /** The first error of an operation that must fail. */
  async error(query: string, variables: Record<string, unknown> = {}) {
    const { status, body } = await this.raw(query, variables);
    if (!body.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(body.data)}`);
    return { status, ...body.errors[0]! };
  }

  /** `lazy: false` keeps the connection open between operations, as a long-lived notebook's does. */
  socket(lazy = true): Client {
    return createClient({
      lazy,
      url: `${this.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${this.token}` },
    });
  }
}

/** A user with a token of the given scopes, and (optionally) a role in projects. */
export async function userWithToken(
  server: TestServer,
  name: string,
  scopes: readonly TokenScope[],
  options: { admin?: boolean; password?: string; roles?: Record<string, ProjectRole> } = {},
): Promise<{ id: string; client: TokenClient; secret: string }> {
  const { orm } = server.server;
  const user = await createUser(orm, { name, password: options.password ?? null, admin: options.admin ?? false });
  for (const [projectId, role] of Object.entries(options.roles ?? {})) await addMember(orm, projectId, user.id, role);
  const { secret } = await createToken(orm.em.fork(), user, { name: `${name}-token`, scopes, expiresInDays: null });
  return { id: user.id, client: new TokenClient(server.url, secret), secret };
}

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
