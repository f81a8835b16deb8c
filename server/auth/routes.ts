import express, { type Request, type Response } from 'express';
import type { Logger } from '../../executors/contract';
import { RateLimiter } from '../limits/rate-limit';
import { SESSION_HOURS, type Authenticator } from './authenticator';
import { cookieValue, CSRF_HEADER, sameSecret, SESSION_COOKIE } from './http';
import { MAX_PASSWORD_LENGTH } from './passwords';

/** Sign-in attempts: 10 at once per address and per user name, then one every 6 s. */
const ATTEMPTS_PER_SECOND = 1 / 6;
const ATTEMPT_BURST = 10;

function refuse(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extra } }] });
}

function sessionCookie(req: Request, value: string, maxAgeSeconds: number): string {
  // Secure whenever the request came over TLS (directly, or through a proxy express trusts).
  return [`${SESSION_COOKIE}=${value}`, 'HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${maxAgeSeconds}`, ...(req.secure ? ['Secure'] : [])].join('; ');
}

/**
 * The browser's sign-in: POST /auth/login (name and password → HttpOnly session cookie and the
 * CSRF token the page sends back), POST /auth/logout, GET /auth/session. Public routes, so they
 * are rate limited per address and per user name; with authentication off they say so.
 */
export function authRoutes(authenticator: Authenticator | null, log: Logger): express.Router {
  const router = express.Router();
  const byAddress = new RateLimiter(ATTEMPTS_PER_SECOND, ATTEMPT_BURST);
  const byName = new RateLimiter(ATTEMPTS_PER_SECOND, ATTEMPT_BURST);

  router.get('/session', (req, res) => {
    if (!authenticator) {
      res.json({ authRequired: false, user: { id: 'local', name: 'local', admin: true }, csrfToken: null });
      return;
    }
    const secret = cookieValue(req, SESSION_COOKIE);
    const found = secret ? authenticator.fromSession(secret) : Promise.resolve(null);
    found.then(
      (session) => {
        const principal = session?.principal;
        if (!session || principal?.kind !== 'user') {
          res.json({ authRequired: true, user: null, csrfToken: null });
          return;
        }
        res.json({ authRequired: true, user: { id: principal.userId, name: principal.name, admin: principal.admin }, csrfToken: session.csrfToken });
      },
      () => refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'the session could not be read'),
    );
  });

  router.post('/login', express.json({ limit: '8kb' }), (req, res) => {
    if (!authenticator) return refuse(res, 400, 'BAD_REQUEST', 'authentication is off (local mode): no sign-in is needed');
    const { name, password } = (req.body ?? {}) as { name?: unknown; password?: unknown };
    if (typeof name !== 'string' || name.length === 0 || name.length > 64) return refuse(res, 400, 'BAD_USER_INPUT', 'name: must be a user name', { field: 'name' });
    if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
      return refuse(res, 400, 'BAD_USER_INPUT', 'password: must be given', { field: 'password' });
    }
    const wait = Math.max(byAddress.take(req.socket.remoteAddress ?? 'unknown'), byName.take(name));
    if (wait > 0) {
      const retryAfter = Math.ceil(wait);
      res.set('retry-after', String(retryAfter));
      return refuse(res, 429, 'RATE_LIMITED', `too many sign-in attempts; try again in ${retryAfter} s`, { retryAfter });
    }
    authenticator.signIn(name, password).then(
      (signedIn) => {
        if (!signedIn) {
          // Quoted as JSON: a name with a newline must not forge a line of the log.
          log.info(`failed sign-in for ${JSON.stringify(name)} from ${req.socket.remoteAddress ?? 'unknown'}`);
          return refuse(res, 401, 'UNAUTHENTICATED', 'wrong user name or password');
        }
        const { user } = signedIn;
        res.set('set-cookie', sessionCookie(req, signedIn.secret, SESSION_HOURS * 3600));
        res.json({ user: { id: user.id, name: user.name, admin: user.admin }, csrfToken: signedIn.csrfToken });
      },
      (error: unknown) => {
        log.warn(`sign-in failed: ${String(error)}`);
        refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'the server could not sign you in');
      },
    );
  });

  router.post('/logout', (req, res) => {
    const secret = cookieValue(req, SESSION_COOKIE);
    const cleared = () => {
      res.set('set-cookie', sessionCookie(req, '', 0));
      res.status(204).end();
    };
    if (!authenticator || !secret) return cleared();
    authenticator.fromSession(secret).then(
      async (session) => {
        if (!session) return cleared();
        // Only the page that holds the session's CSRF token can end it.
        const csrf = req.get(CSRF_HEADER);
        if (!csrf || !sameSecret(csrf, session.csrfToken)) return refuse(res, 403, 'CSRF', `signing out needs the ${CSRF_HEADER} header`);
        await authenticator.signOut(secret);
        cleared();
      },
      () => refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'the session could not be read'),
    );
  });
  return router;
}
