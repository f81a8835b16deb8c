import { randomBytes } from 'node:crypto';
import type { Logger } from '../../executors/contract';
import { TokenScope } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { ApiToken, User, WebSession } from '../entities';
import { decoyHash, verifyPassword } from './passwords';
import { effectiveScopes, type Principal } from './principal';
import { isTokenShaped, newSecret, secretDigest } from './secrets';

/** A browser session lasts this long from sign-in, however active. */
export const SESSION_HOURS = 12;
/** lastUsedAt is written at most this often per credential, so reads do not turn into writes. */
const TOUCH_MS = 60_000;

export interface SignedIn {
  readonly user: User;
  /** The cookie's value. */
  readonly secret: string;
  readonly csrfToken: string;
}

/** Turns credentials (API tokens, session cookies, passwords) into principals. */
export class Authenticator {
  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
  ) {}

  /** null for a token that is unknown, revoked, expired, or whose user is disabled; the caller cannot tell which. */
  async fromToken(token: string): Promise<Principal | null> {
    if (!isTokenShaped(token)) return null;
    const em = this.orm.em.fork();
    const found = await em.findOne(ApiToken, { secretHash: secretDigest(token) }, { populate: ['user'] });
    const now = new Date();
    if (!found || found.revokedAt || (found.expiresAt && found.expiresAt <= now) || found.user.disabledAt) return null;
    if (!found.lastUsedAt || now.getTime() - found.lastUsedAt.getTime() > TOUCH_MS) {
      void em
        .nativeUpdate(ApiToken, { id: found.id }, { lastUsedAt: now })
        .catch((error: unknown) => this.log.warn(`recording the use of token ${found.id} failed: ${String(error)}`));
    }
    const { user } = found;
    return { kind: 'user', userId: user.id, name: user.name, admin: user.admin, scopes: effectiveScopes(found.scopes, user.admin), via: 'token' };
  }

  /** The session behind a cookie value and its CSRF token, or null when it is unknown or over. */
  async fromSession(secret: string): Promise<{ principal: Principal; csrfToken: string } | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    const em = this.orm.em.fork();
    const session = await em.findOne(WebSession, { secretHash: secretDigest(secret) }, { populate: ['user'] });
    const now = new Date();
    if (!session || session.expiresAt <= now || session.user.disabledAt) return null;
    if (now.getTime() - session.lastUsedAt.getTime() > TOUCH_MS) {
      void em.nativeUpdate(WebSession, { id: session.id }, { lastUsedAt: now }).catch(() => undefined);
    }
    const { user } = session;
    // A browser session can do what its user can; an admin's includes ADMIN.
    const granted = user.admin ? [TokenScope.ADMIN] : [TokenScope.WRITE];
    return {
      principal: { kind: 'user', userId: user.id, name: user.name, admin: user.admin, scopes: effectiveScopes(granted, user.admin), via: 'session' },
      csrfToken: session.csrfToken,
    };
  }

  /** Checks a name and password and opens a session; null for any mismatch, in about the same time. */
  async signIn(name: string, password: string): Promise<SignedIn | null> {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { name });
    const hash = user?.passwordHash ?? (await decoyHash());
    const matches = await verifyPassword(password, hash);
    if (!user || !user.passwordHash || !matches || user.disabledAt) return null;
    const secret = newSecret();
    const csrfToken = randomBytes(24).toString('base64url');
    await em.nativeDelete(WebSession, { expiresAt: { $lte: new Date() } });
    em.create(WebSession, { user, secretHash: secretDigest(secret), csrfToken, expiresAt: new Date(Date.now() + SESSION_HOURS * 3_600_000) });
    await em.flush();
    return { user, secret, csrfToken };
  }

  async signOut(secret: string): Promise<void> {
    await this.orm.em.fork().nativeDelete(WebSession, { secretHash: secretDigest(secret) });
  }
}
