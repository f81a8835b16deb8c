import { createClient, type Client } from 'graphql-ws';
import type { User } from './types';

/** A failure the user should read: an unreachable server or the API's own error message. */
export class ApiError extends Error {}

interface ErrorShape {
  message: string;
  extensions?: { code?: string; field?: string; retryAfter?: number };
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: ErrorShape[];
}

export type Variables = Record<string, unknown>;

export interface Session {
  readonly authRequired: boolean;
  readonly user: User | null;
}

export const SESSION_ENDED = 'Your session has ended; sign in again.';

/**
 * The session cookie is HttpOnly and sent by the browser; this token proves that a request comes
 * from the page the server signed in, not from another site riding on the cookie. It lives in
 * memory only: after a reload /auth/session hands it out again.
 */
let csrfToken: string | null = null;
/** Counts sign-ins and sign-outs, so that an answer to a request of an earlier session cannot end the current one. */
let generation = 0;
let sessionEnded: () => void = () => undefined;
let socket: Client | null = null;

/** Called when the server no longer accepts the session: the app shows the login page. */
export function onSessionEnded(listener: () => void): void {
  sessionEnded = listener;
}

function startSession(token: string | null): void {
  csrfToken = token;
  generation++;
  // An open socket keeps the identity it was opened with: the next subscription opens a new one.
  // Disposing of a socket the server refused rejects with the refusal, which is already handled.
  void Promise.resolve(socket?.dispose()).catch(() => undefined);
  socket = null;
}

function endSession(of: number): void {
  if (of !== generation) return;
  startSession(null);
  sessionEnded();
}

function credentials(): Record<string, string> {
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError('The slimlab server cannot be reached.');
  }
}

/** One query or mutation over HTTP; rejects with an ApiError that names the failing field. */
export async function gql<T>(query: string, variables: Variables = {}): Promise<T> {
  const sent = generation;
  const response = await send('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...credentials() },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json().catch(() => ({}))) as GraphQLBody<T>;
  // A CSRF refusal means the browser's cookie belongs to a session this page did not sign in
  // (another tab signed out and in again): this page's session is over as well.
  const refused = body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED' || e.extensions?.code === 'CSRF');
  if (response.status === 401 || refused) {
    endSession(sent);
    throw new ApiError(SESSION_ENDED);
  }
  if (body.errors?.length) throw new ApiError(body.errors.map(describeError).join('; '));
  if (!response.ok || !body.data) throw new ApiError(`The server answered HTTP ${response.status}.`);
  return body.data;
}

function describeError(error: ErrorShape): string {
  const field = error.extensions?.field;
  return field && !error.message.includes(field) ? `${field}: ${error.message}` : error.message;
}

/**
 * A file the server serves to signed-in callers (an artifact). A plain link cannot send the
 * session's CSRF token, which the server asks of every cookie-authenticated request.
 */
export async function fetchFile(path: string): Promise<Blob> {
  const sent = generation;
  const response = await send(path, { headers: credentials() });
  if (response.status === 401) {
    endSession(sent);
    throw new ApiError(SESSION_ENDED);
  }
  if (!response.ok) throw new ApiError(`The server answered HTTP ${response.status} for the file.`);
  return response.blob();
}

/** Who the browser's session cookie signs in, if anyone; also restores the CSRF token after a reload. */
export async function loadSession(): Promise<Session> {
  const response = await send('/auth/session', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new ApiError(`The server answered HTTP ${response.status}.`);
  const body = (await response.json()) as Session & { csrfToken: string | null };
  startSession(body.csrfToken);
  return { authRequired: body.authRequired, user: body.user };
}

/** Signs in; rejects with the reason to show on the login form. */
export async function login(name: string, password: string): Promise<User> {
  const response = await send('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const body = (await response.json().catch(() => ({}))) as { user?: User; csrfToken?: string } & GraphQLBody<never>;
  if (response.status === 401) throw new ApiError('Wrong user name or password.');
  if (response.status === 429) throw new ApiError(`Too many sign-in attempts; try again ${waitText(body.errors?.[0]?.extensions?.retryAfter)}.`);
  if (!response.ok || !body.user || !body.csrfToken) {
    throw new ApiError(body.errors?.length ? body.errors.map(describeError).join('; ') : `The server answered HTTP ${response.status}.`);
  }
  startSession(body.csrfToken);
  return body.user;
}

function waitText(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'later';
  if (seconds < 90) return `in ${Math.max(1, Math.ceil(seconds))} seconds`;
  return `in ${Math.ceil(seconds / 60)} minutes`;
}

/** Ends the session on the server; an already ended one counts as signed out. */
export async function logout(): Promise<void> {
  const response = await send('/auth/logout', { method: 'POST', headers: credentials() });
  if (!response.ok && response.status !== 401) throw new ApiError(`The server answered HTTP ${response.status}.`);
  startSession(null);
}

/** Close codes of a socket the server refused at connection_init. */
const SOCKET_UNAUTHENTICATED = 4401;
const SOCKET_FORBIDDEN = 4403;

function closeCode(event: unknown): number | null {
  return typeof event === 'object' && event !== null && 'code' in event && typeof event.code === 'number' ? event.code : null;
}

function openSocket(): Client {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const opened = generation;
  return createClient({
    url: url.toString(),
    lazy: true,
    retryAttempts: Number.POSITIVE_INFINITY,
    connectionParams: { csrfToken },
    // graphql-ws retries a forbidden socket by default; the same token would be refused again.
    shouldRetry: (event) => closeCode(event) !== null && closeCode(event) !== SOCKET_FORBIDDEN,
    on: {
      closed: (event) => {
        if (closeCode(event) === SOCKET_UNAUTHENTICATED) endSession(opened);
      },
    },
  });
}

function subscriptions(): Client {
  // The socket outlives views: every live view multiplexes its subscriptions over it.
  socket ??= openSocket();
  return socket;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error(message: string): void;
}

function socketError(error: unknown): string {
  if (error instanceof Error) return error.message;
  const code = closeCode(error);
  if (code === SOCKET_UNAUTHENTICATED) return 'your session has ended';
  if (code === SOCKET_FORBIDDEN) return 'the server refused the live connection';
  return 'the live connection was lost';
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
      error: (error) => handlers.error(socketError(error)),
      complete: () => undefined,
    },
  );
}
