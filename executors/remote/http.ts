import { Readable } from 'node:stream';
import { PROTOCOL_PREFIX, type ProtocolErrorBody } from '../protocol';
import { isProtocolErrorCode, ProtocolError } from '../protocol-error';

/** The part of `fetch` the transfer uses; injected so callers and tests choose the client. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** How a worker reaches the server. */
export interface RemoteEndpoint {
  /** The server's URL; routes are under PROTOCOL_PREFIX of it. */
  readonly baseUrl: string;
  /** Sent with every request; the caller supplies the Authorization header here. */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch?: FetchLike;
  /** A request is aborted when this long passes without a response or a byte moving (default 60 s). */
  readonly idleTimeoutMs?: number;
}

export class TransferTimeoutError extends Error {
  override name = 'TransferTimeoutError';
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Error bodies are a line of JSON; a server sending more is not speaking the protocol. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Aborts a request once it stalls, not after a fixed total: a large file on a slow link may take
 * long, but never long without progress.
 */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly what: string,
  ) {
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new TransferTimeoutError(`${this.what}: no progress for ${this.ms} ms`)), this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Passes chunks through, counting each as progress. */
  async *watch(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.touch();
      yield chunk;
    }
  }
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Streamed; every chunk sent counts as progress. */
  readonly body?: AsyncIterable<Uint8Array>;
}

/** A protocol call answering JSON; a protocol error body becomes a ProtocolError with its code. */
export async function requestJson<T>(endpoint: RemoteEndpoint, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const { response, watchdog, what } = await send(endpoint, method, path, options);
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw failure(what, error, watchdog);
  } finally {
    watchdog.stop();
  }
}

/** A download as a stream; the request stays under the watchdog until the stream ends or is destroyed. */
export async function download(endpoint: RemoteEndpoint, path: string): Promise<Readable> {
  const { response, watchdog } = await send(endpoint, 'GET', path, {});
  if (response.body === null) {
    watchdog.stop();
    return Readable.from([]);
  }
  const stream = Readable.from(watchdog.watch(response.body));
  stream.once('close', () => watchdog.stop());
  return stream;
}

async function send(endpoint: RemoteEndpoint, method: string, path: string, options: RequestOptions) {
  const what = `${method} ${path}`;
  const watchdog = new Watchdog(endpoint.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, what);
  const fetchFn = endpoint.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(`${endpoint.baseUrl.replace(/\/+$/, '')}${PROTOCOL_PREFIX}${path}`, {
      method,
      headers: { ...endpoint.headers, ...options.headers },
      signal: watchdog.signal,
      ...(options.body === undefined ? {} : { body: watchdog.watch(options.body), duplex: 'half' }),
    });
  } catch (error) {
    watchdog.stop();
    throw failure(what, error, watchdog);
  }
  if (!response.ok) {
    try {
      throw await errorOf(what, response);
    } finally {
      watchdog.stop();
    }
  }
  return { response, watchdog, what };
}

async function errorOf(what: string, response: Response): Promise<ProtocolError> {
  const text = await readLimited(response);
  try {
    const { error } = JSON.parse(text) as ProtocolErrorBody;
    if (isProtocolErrorCode(error.code) && typeof error.message === 'string') return new ProtocolError(error.code, `${what}: ${error.message}`);
  } catch {
    // Not the protocol's error body: described below by its status.
  }
  return new ProtocolError('INTERNAL', `${what}: HTTP ${response.status} without a protocol error body`);
}

async function readLimited(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes > MAX_ERROR_BODY) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Names the request in a network failure, and reports a stall as the timeout it is. */
function failure(what: string, error: unknown, watchdog: Watchdog): Error {
  if (watchdog.signal.aborted) return watchdog.signal.reason as Error;
  const cause = (error as { cause?: unknown }).cause;
  const reason = cause instanceof Error ? cause.message : (error as Error).message;
  return new Error(`${what} failed: ${reason}`, { cause: error });
}
