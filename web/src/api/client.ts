import { createClient, type Client } from 'graphql-ws';

/** A failure the user should read: an unreachable server or the API's own error message. */
export class ApiError extends Error {}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { field?: string } }[];
}

export type Variables = Record<string, unknown>;

/** One query or mutation over HTTP; rejects with an ApiError that names the failing field. */
export async function gql<T>(query: string, variables: Variables = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('The slimlab server cannot be reached.');
  }
  const body = (await response.json().catch(() => ({}))) as GraphQLBody<T>;
  if (body.errors?.length) throw new ApiError(body.errors.map(describeError).join('; '));
  if (!response.ok || !body.data) throw new ApiError(`The server answered HTTP ${response.status}.`);
  return body.data;
}

function describeError(error: { message: string; extensions?: { field?: string } }): string {
  const field = error.extensions?.field;
  return field && !error.message.includes(field) ? `${field}: ${error.message}` : error.message;
}

let socket: Client | null = null;

function subscriptions(): Client {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // The socket outlives views: every live view multiplexes its subscriptions over it.
  socket ??= createClient({ url: url.toString(), lazy: true, retryAttempts: Number.POSITIVE_INFINITY });
  return socket;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error(message: string): void;
}

/** Starts a graphql-ws subscription; returns the function that ends it. */
export function subscribe<T>(query: string, variables: Variables, handlers: SubscriptionHandlers<T>): () => void {
  return subscriptions().subscribe<T>(
    { query, variables },
    {
      next: (event) => {
        if (event.errors?.length) handlers.error(event.errors.map((e) => e.message).join('; '));
        else if (event.data) handlers.next(event.data as T);
      },
      error: (error) => handlers.error(error instanceof Error ? error.message : 'the live connection was lost'),
      complete: () => undefined,
    },
  );
}
