import type { MiddlewareFn } from 'type-graphql';
import { TokenScope } from '../../schema/enums';
import { forbidden, type Caller } from './caller';

/**
 * What a root field asks of the caller's credential before it runs. Which projects it may touch is
 * checked by the services, against the caller's memberships; this is the coarse gate in front.
 *  - READ: a credential with READ (it sees only its projects' data, and shared things such as
 *    devices and workers);
 *  - WRITE: a credential with WRITE (the service then checks the project role);
 *  - ADMIN: an admin with ADMIN.
 */
export type Policy = 'READ' | 'WRITE' | 'ADMIN';

const POLICIES = new Map<string, Policy>();
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/**
 * Declares a root field's policy. Every root field must have one: a field without is refused at
 * run time (FORBIDDEN) and fails tests/server/access-policy.test.ts, so nothing is public by accident.
 */
export function Access(policy: Policy): MethodDecorator {
  return (_target, key) => {
    const field = String(key);
    if (POLICIES.has(field)) throw new Error(`root field ${field} declares an access policy twice`);
    POLICIES.set(field, policy);
  };
}

export function policyOf(field: string): Policy | undefined {
  return POLICIES.get(field);
}

/** The global middleware that applies the declared policy to every root field (and every subscription event). */
export const enforcePolicies: MiddlewareFn<{ caller: Caller }> = async ({ info, context }, next) => {
  if (!ROOT_TYPES.has(info.parentType.name)) return next();
  const policy = POLICIES.get(info.fieldName);
  const { caller } = context;
  if (policy === 'READ') caller.requireScope(TokenScope.READ);
  else if (policy === 'WRITE') caller.requireScope(TokenScope.WRITE);
  else if (policy === 'ADMIN') caller.requireAdmin();
  else throw forbidden(`${info.parentType.name}.${info.fieldName} declares no access policy, so nobody may use it`);
  return next();
};
