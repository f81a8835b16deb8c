import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Authenticator } from './authenticator';
import { authenticate } from './http';
import type { Principal } from './principal';

/** The close code of a socket whose credential stopped working (graphql-ws uses 4401 for Unauthorized). */
export const CREDENTIAL_ENDED = 4401;
const CHECK_EVERY_MS = 30_000;

interface OpenSocket {
  readonly request: IncomingMessage;
  readonly authorization: string | undefined;
  readonly csrf: string | undefined;
}

/**
 * The credentials of open WebSockets, checked again when the socket starts an operation and every
 * 30 s: a socket whose token was revoked or expired, whose session ended or whose user was disabled
 * is closed, rather than streaming events for as long as it stays open.
 */
export class SocketCredentials {
  private readonly open = new Map<WebSocket, OpenSocket>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly authenticator: Authenticator) {
    this.timer = setInterval(() => void this.sweep(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Authenticates a new socket and remembers how, so it can be checked again. */
  async admit(socket: WebSocket, request: IncomingMessage, authorization: string | undefined, csrf: string | undefined): Promise<Principal> {
    const principal = await authenticate(request, this.authenticator, authorization, csrf);
    this.open.set(socket, { request, authorization, csrf });
    socket.once('close', () => this.open.delete(socket));
    return principal;
  }

  /** The socket's principal as of now; closes the socket and returns null when its credential has ended. */
  async recheck(socket: WebSocket): Promise<Principal | null> {
    const entry = this.open.get(socket);
    if (!entry) return null;
    try {
      return await authenticate(entry.request, this.authenticator, entry.authorization, entry.csrf);
    } catch {
      this.open.delete(socket);
      socket.close(CREDENTIAL_ENDED, 'the credential is no longer valid');
      return null;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    for (const socket of [...this.open.keys()]) await this.recheck(socket);
  }
}
