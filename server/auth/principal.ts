import { TokenScope } from '../../schema/enums';

/** Who a request comes from, once its credential has been checked. */
export type Principal =
  /** Auth off (the single-user default): every request is the local admin. */
  | { readonly kind: 'local' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly name: string;
      readonly admin: boolean;
      /** Already widened: WRITE includes READ, ADMIN includes both (and only an admin has it). */
      readonly scopes: ReadonlySet<TokenScope>;
      readonly via: 'token' | 'session';
    };

export const LOCAL: Principal = { kind: 'local' };

/** The scopes a credential grants: each scope includes the ones below it, and ADMIN needs an admin user. */
export function effectiveScopes(granted: readonly TokenScope[], admin: boolean): ReadonlySet<TokenScope> {
  const scopes = new Set<TokenScope>();
  for (const scope of granted) {
    if (scope === TokenScope.ADMIN && !admin) continue;
    scopes.add(scope);
    if (scope === TokenScope.ADMIN) scopes.add(TokenScope.WRITE);
    if (scope === TokenScope.ADMIN || scope === TokenScope.WRITE) scopes.add(TokenScope.READ);
  }
  return scopes;
}

export function hasScope(principal: Principal, scope: TokenScope): boolean {
  return principal.kind === 'local' || principal.scopes.has(scope);
}

/** Sees and manages everything: the local user, and an admin whose credential carries ADMIN. */
export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'local' || (principal.admin && principal.scopes.has(TokenScope.ADMIN));
}

/** What rate limits and logs call the caller: never the credential itself. */
export function principalKey(principal: Principal): string | null {
  return principal.kind === 'user' ? `user:${principal.userId}` : null;
}
