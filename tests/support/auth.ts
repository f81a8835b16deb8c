import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ProjectRole, TokenScope } from '../../schema/enums';
import { addMember, createToken, createUser } from '../../server/auth/users';
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
