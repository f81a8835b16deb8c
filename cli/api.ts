import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Credential } from './credentials';
import { CliError, usageError } from './errors';

export const DEFAULT_SERVER = 'http://127.0.0.1:4000';

const SIGN_IN = 'run `slimlab login` or set SLIMLAB_TOKEN';

/**
 * How a server closes a WebSocket whose connection_init it refuses (graphql-ws: Unauthorized,
 * Forbidden). Retrying with the same token cannot help.
 */
const REFUSED_SOCKET = [4401, 4403];

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

/** The server's answer was an error: a bad id, an invalid input, a failed precondition. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Reads --server, else SLIMLAB_URL, else the local default; rejects anything but an http(s) URL. */
export function serverUrl(option: string | undefined, env: NodeJS.ProcessEnv): URL {
  const [raw, source] = option !== undefined ? [option, '--server'] : env.SLIMLAB_URL ? [env.SLIMLAB_URL, 'SLIMLAB_URL'] : [DEFAULT_SERVER, 'default'];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${source} must be a URL such as ${DEFAULT_SERVER} (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`${source} must be an http:// or https:// URL (got "${raw}")`);
  return url;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error(error: CliError): void;
}

/**
 * GraphQL over HTTP for queries and mutations, graphql-ws for subscriptions, on one server; every
 * request carries the credential, if there is one.
 */
export class Api {
  private socket: Client | null = null;
  private readonly endpoint: URL;

  constructor(
    readonly server: URL,
    private readonly credential: Credential | null = null,
  ) {
    this.endpoint = new URL('graphql', server.href.endsWith('/') ? server : `${server.href}/`);
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.authorization() },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    const body = (await response.json().catch(() => null)) as GraphQLBody<T> | null;
    const first = body?.errors?.[0];
    if (response.status === 401) throw this.refused(first?.message);
    if (first) throw this.answered(first);
    if (!response.ok || !body?.data) throw new CliError(`${this.endpoint.href} answered HTTP ${response.status}; is it a slimlab server?`);
    return body.data;
  }

  /** The bytes at a path the server named (e.g. Artifact.downloadUrl). */
  async download(path: string): Promise<Buffer> {
    const url = new URL(path, this.server);
    // The token is for the server alone: a download URL may name another host.
    const headers = url.origin === this.server.origin ? this.authorization() : {};
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (response.status === 401) throw this.refused(undefined);
    if (!response.ok) throw new CliError(`${url.href} answered HTTP ${response.status}: ${errorMessage(await response.text())}`);
    return Buffer.from(await response.arrayBuffer());
  }

  /**
   * POSTs a streamed body to a route of the server and answers the JSON it sent back; a refusal in
   * the API's error shape (`{ errors: [...] }`) becomes an ApiError with its message and code.
   */
  async postStream<T>(path: string, query: Record<string, string>, headers: Record<string, string>, body: AsyncIterable<Uint8Array>): Promise<T> {
    const url = new URL(path, this.endpoint);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: { ...this.authorization(), ...headers }, body, duplex: 'half' } as RequestInit);
    } catch (error) {
      // The body's own failure (a file that changed while it was read) is the user's to fix.
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof CliError) throw cause;
      throw this.unreachable(error);
    }
    const answer = (await response.json().catch(() => null)) as (T & GraphQLBody<unknown>) | null;
    const first = answer?.errors?.[0];
    if (first) throw new ApiError(first.message, first.extensions?.code);
    if (!response.ok || answer === null) throw new CliError(`${url.origin}${url.pathname} answered HTTP ${response.status}; is it a slimlab server?`);
    return answer;
  }

  /** Starts a subscription; returns the function that ends it. */
  subscribe<T>(query: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void {
    return this.sockets().subscribe<T>(
      { query, variables },
      {
        next: (event) => {
          const first = event.errors?.[0];
          if (first) handlers.error(this.answered(first));
          else if (event.data) handlers.next(event.data as T);
        },
        error: (error) => handlers.error(this.socketFailure(error)),
        complete: () => undefined,
      },
    );
  }

  /**
   * Resolves once a query sent on the subscription socket has been answered: the protocol does not
   * acknowledge subscriptions, but the server has set up every earlier one by then.
   */
  settled(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sockets().subscribe({ query: '{ __typename }' }, { next: () => undefined, error: (e) => reject(this.socketFailure(e)), complete: resolve }),
    );
  }

  async close(): Promise<void> {
    await this.socket?.dispose();
    this.socket = null;
  }

  private sockets(): Client {
    const url = new URL(this.endpoint);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.socket ??= createClient({
      url: url.href,
      webSocketImpl: WebSocket,
      retryAttempts: 3,
      lazy: true,
      // The server reads the token from the connection_init payload, as it reads the header over HTTP.
      connectionParams: this.authorization(),
      shouldRetry: (error) => {
        const code = closeCode(error);
        return code !== undefined && !REFUSED_SOCKET.includes(code);
      },
    });
    return this.socket;
  }

  private authorization(): Record<string, string> {
    return this.credential ? { authorization: `Bearer ${this.credential.token}` } : {};
  }

  private answered(error: GraphQLError): CliError {
    if (error.extensions?.code === 'UNAUTHENTICATED') return this.refused(error.message);
    return new ApiError(error.message, error.extensions?.code);
  }

  /** The server wants a valid token: say which one it refused (never the token itself), or how to give one. */
  private refused(detail: string | undefined): CliError {
    if (!this.credential) return usageError(`the server needs a token: ${SIGN_IN}`);
    return usageError(`the server refused the token ${this.credential.source}${detail ? ` (${detail})` : ''}: ${SIGN_IN}`);
  }

  /** graphql-ws reports GraphQL errors of a subscription as an array, a closed socket as a close event. */
  private socketFailure(error: unknown): CliError {
    if (Array.isArray(error) && error.length > 0) return this.answered(error[0] as GraphQLError);
    const code = closeCode(error);
    if (code !== undefined && REFUSED_SOCKET.includes(code)) return this.refused((error as Failure).reason || undefined);
    return this.unreachable(error);
  }

  private unreachable(error: unknown): CliError {
    const cause = describeFailure(error);
    return new CliError(
      `cannot reach the slimlab server at ${this.server.origin} (${cause}); start one with \`slimlab serve\`, or point --server or SLIMLAB_URL at a running one`,
    );
  }
}

interface Failure {
  message?: string;
  code?: string | number;
  reason?: string;
  cause?: { code?: string; message?: string };
}

/** A closed WebSocket's close code, read by shape like the failures below. */
function closeCode(error: unknown): number | undefined {
  const { code } = (error ?? {}) as Failure;
  return typeof code === 'number' ? code : undefined;
}

/**
 * fetch hides the reason in `cause` (a system error code such as ECONNREFUSED, or a message); a
 * closed WebSocket reports a close code. Read by shape, since errors may come from another realm.
 */
function describeFailure(error: unknown): string {
  const failure = (error ?? {}) as Failure;
  if (failure.cause) return failure.cause.code ?? failure.cause.message ?? 'connection failed';
  if (typeof failure.code === 'number') return `socket closed with code ${failure.code}${failure.reason ? `: ${failure.reason}` : ''}`;
  return failure.code ?? failure.message ?? 'connection failed';
}

/** The message of a route's JSON error (`{ "errors": [{ "message" }] }`), or the body as it came. */
function errorMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { errors?: { message?: unknown }[] }).errors?.[0]?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: a proxy's page, say; shown as it is.
  }
  return body.trim();
}
