import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kind, parse } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';

/** One request the stub received, and the credential it carried. */
export interface Seen {
  readonly via: 'http' | 'websocket';
  readonly path: string;
  /** The root field asked for over HTTP; absent for downloads and socket connections. */
  readonly field?: string;
  /** The Authorization header, or the `authorization` of a socket's connection_init payload. */
  readonly authorization?: string;
}

type Variables = Record<string, unknown>;

export interface StubOptions {
  /** Answers by root field, over HTTP. */
  readonly fields?: Record<string, (variables: Variables) => unknown>;
  /** Events a subscription sends as soon as it starts, by root field; it stays open after them. */
  readonly subscriptions?: Record<string, (variables: Variables) => unknown[]>;
  /** Downloads by path, e.g. `/artifacts/a1`. */
  readonly files?: Record<string, Buffer>;
  /** The API tokens it accepts; left out, it ignores tokens like a server in local mode. */
  readonly tokens?: readonly string[];
}

/**
 * A stand-in for a slimlab server with authentication, until the real one has it: GraphQL over HTTP,
 * downloads, and graphql-transport-ws on 127.0.0.1, answering as the auth contract says (HTTP 401
 * with UNAUTHENTICATED; a socket whose connection_init lacks a valid token closed with 4403), and
 * recording the credential each request carried.
 */
export class AuthStub {
  readonly seen: Seen[] = [];
  private readonly http = createServer((request, response) => void this.answer(request, response));
  private readonly sockets = new WebSocketServer({ server: this.http, path: '/graphql' });

  private constructor(private readonly options: StubOptions) {
    this.sockets.on('connection', (socket) => socket.on('message', (raw) => this.onMessage(socket, JSON.parse(raw.toString()))));
  }

  static async start(options: StubOptions): Promise<AuthStub> {
    const stub = new AuthStub(options);
    await new Promise<void>((resolve) => stub.http.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets.clients) socket.terminate();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise((resolve) => this.http.close(resolve));
  }

  private accepts(authorization: string | undefined): boolean {
    return this.options.tokens === undefined || this.options.tokens.some((token) => authorization === `Bearer ${token}`);
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.url).pathname;
    const { authorization } = request.headers;
    let body = '';
    for await (const chunk of request) body += chunk;
    if (path !== '/graphql') {
      this.seen.push({ via: 'http', path, authorization });
      const file = this.options.files?.[path];
      if (!this.accepts(authorization)) return void response.writeHead(401).end('a valid API token is required');
      return void (file ? response.writeHead(200).end(file) : response.writeHead(404).end('no such file'));
    }
    const { query, variables } = JSON.parse(body) as { query: string; variables?: Variables };
    const field = rootField(query);
    this.seen.push({ via: 'http', path, field, authorization });
    if (!this.accepts(authorization)) {
      const message = authorization ? 'the token is invalid or expired' : 'a token is required';
      return reply(response, 401, { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    const resolve = this.options.fields?.[field];
    if (!resolve) return reply(response, 400, { errors: [{ message: `Cannot query field "${field}" on type "Query".`, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    reply(response, 200, { data: { [field]: resolve(variables ?? {}) } });
  }

  private onMessage(socket: WebSocket, message: { type: string; id?: string; payload?: { authorization?: string; query?: string; variables?: Variables } }): void {
    const send = (answer: object) => socket.send(JSON.stringify(answer));
    if (message.type === 'connection_init') {
      const authorization = message.payload?.authorization;
      this.seen.push({ via: 'websocket', path: '/graphql', authorization });
      if (this.accepts(authorization)) send({ type: 'connection_ack' });
      else socket.close(4403, 'Forbidden');
    } else if (message.type === 'subscribe') {
      const { id, payload } = message;
      const field = rootField(payload!.query!);
      // `{ __typename }` is how the clients learn that the subscriptions before it are set up.
      if (field === '__typename') {
        send({ id, type: 'next', payload: { data: { __typename: 'Query' } } });
        send({ id, type: 'complete' });
        return;
      }
      for (const event of this.options.subscriptions?.[field]?.(payload!.variables ?? {}) ?? []) send({ id, type: 'next', payload: { data: { [field]: event } } });
    }
  }
}

function rootField(query: string): string {
  const operation = parse(query).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const first = operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet.selections[0] : undefined;
  if (first?.kind !== Kind.FIELD) throw new Error(`the stub answers plain fields only: ${query}`);
  return first.name.value;
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
