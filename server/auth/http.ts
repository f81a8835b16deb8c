import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import type { Authenticator } from './authenticator';
import { unauthenticated } from './caller';
import { LOCAL, type Principal } from './principal';

export const SESSION_COOKIE = 'slimlab_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The principal each authenticated request (HTTP, or a WebSocket's upgrade) was resolved to. */
const principals = new WeakMap<IncomingMessage, Principal>();

export function principalOfRequest(request: IncomingMessage): Principal | undefined {
  return principals.get(request);
}

function csrfError(): GraphQLError {
  return new GraphQLError(`a signed-in browser request needs the ${CSRF_HEADER} header its session was given`, {
    extensions: { code: 'CSRF', http: { status: 403 } },
  });
}

export function cookieValue(request: IncomingMessage, name: string): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whose request this is: an API token (Authorization: Bearer), or a browser session (cookie) whose
 * CSRF token came with it, or nobody (UNAUTHENTICATED). With authentication off, everyone is the
 * local user. `csrf` is where the request carries its CSRF token (a header, or graphql-ws's
 * connection_init payload).
 */
export async function authenticate(
  request: IncomingMessage,
  authenticator: Authenticator | null,
  authorization: string | undefined,
  csrf: string | undefined,
): Promise<Principal> {
  if (!authenticator) return LOCAL;
  let principal: Principal | null;
  if (authorization !== undefined) {
    const bearer = /^Bearer (\S+)$/.exec(authorization);
    if (!bearer) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    principal = await authenticator.fromToken(bearer[1]!);
    if (!principal) throw unauthenticated('the token is not valid: unknown, revoked or expired, or its user is disabled');
  } else {
    const secret = cookieValue(request, SESSION_COOKIE);
    if (secret === null) throw unauthenticated();
    const session = await authenticator.fromSession(secret);
    if (!session) throw unauthenticated('your session has ended; sign in again');
    if (!csrf || !sameSecret(csrf, session.csrfToken)) throw csrfError();
    principal = session.principal;
  }
  principals.set(request, principal);
  return principal;
}

/** Express middleware: the request's principal in res.locals.principal, or a JSON 401/403. */
export function requireAuthentication(authenticator: Authenticator | null) {
  return (req: Request, res: Response, next: NextFunction) => {
    authenticate(req, authenticator, req.get('authorization'), req.get(CSRF_HEADER)).then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof GraphQLError)) return next(error);
        const status = (error.extensions.http as { status?: number } | undefined)?.status ?? 401;
        res.status(status).json({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] });
      },
    );
  };
}
