import type { ProtocolErrorCode } from '../../executors/protocol';

const STATUS: Record<ProtocolErrorCode, number> = {
  UNAUTHENTICATED: 401,
  UNKNOWN_WORKER: 404,
  LEASE_LOST: 409,
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  DIGEST_MISMATCH: 422,
  TOO_LARGE: 413,
  INTERNAL: 500,
};

/** A worker-protocol error: a stable code the worker acts on, and a message a person can read. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }

  get status(): number {
    return STATUS[this.code];
  }
}
