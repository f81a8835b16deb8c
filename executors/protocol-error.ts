import type { ProtocolErrorBody, ProtocolErrorCode } from './protocol';

/** The HTTP status each protocol error travels with; the code in the body is what a worker acts on. */
export const PROTOCOL_ERROR_STATUS: Readonly<Record<ProtocolErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  UNKNOWN_WORKER: 404,
  LEASE_LOST: 409,
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  DIGEST_MISMATCH: 422,
  TOO_LARGE: 413,
  INTERNAL: 500,
};

/**
 * An error with a protocol code. Its message is shown to the other side as is, so it must name
 * things by id or relative path, never by a server path.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }

  get status(): number {
    return PROTOCOL_ERROR_STATUS[this.code];
  }

  toBody(): ProtocolErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isProtocolErrorCode(value: unknown): value is ProtocolErrorCode {
  return typeof value === 'string' && Object.hasOwn(PROTOCOL_ERROR_STATUS, value);
}

/**
 * A ProtocolError for anything carrying a protocol code (so a dependency may throw its own coded
 * errors); null for everything else, whose message may hold details that must not leave the server.
 */
export function asProtocolError(error: unknown): ProtocolError | null {
  if (error instanceof ProtocolError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && isProtocolErrorCode(code)) return new ProtocolError(code, error.message);
  return null;
}
