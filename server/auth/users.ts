import type { EntityManager } from '@mikro-orm/core';
import { ProjectRole, TokenScope } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { ApiToken, Project, ProjectMember, User } from '../entities';
import { badInput, notFound, userError } from '../errors';
import * as check from '../validation';
import { checkPassword, hashPassword } from './passwords';
import { newToken, secretDigest } from './secrets';

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Tokens live at most this long; a token without an expiry is allowed but must be asked for. */
export const MAX_TOKEN_DAYS = 3650;

export function checkUserName(field: string, name: string): string {
  if (!USER_NAME.test(name)) {
    throw badInput(field, 'must be 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
  }
  return name;
}

export interface NewUser {
  readonly name: string;
  /** null: the user signs in only with tokens. */
  readonly password: string | null;
  readonly admin: boolean;
}

export async function createUser(orm: Orm | EntityManager, spec: NewUser): Promise<User> {
  const em = 'em' in orm ? orm.em.fork() : orm;
  const name = checkUserName('input.name', spec.name);
  const passwordHash = spec.password === null ? null : await hashPassword(checkPassword('input.password', spec.password));
  if (await em.count(User, { name })) throw userError('CONFLICT', 'input.name', `a user named "${name}" exists`);
  const user = em.create(User, { name, passwordHash, admin: spec.admin });
  await em.flush();
  return user;
}

export async function userNamed(em: EntityManager, field: string, name: string): Promise<User> {
  const user = await em.findOne(User, { name });
  if (!user) throw userError('NOT_FOUND', field, `no user named "${name}"`);
  return user;
}

export interface NewToken {
  readonly name: string;
  readonly scopes: readonly TokenScope[];
  /** null: never expires. */
  readonly expiresInDays: number | null;
}

/** The token is returned once, here; only its digest is stored. */
export async function createToken(em: EntityManager, user: User, spec: NewToken): Promise<{ token: ApiToken; secret: string }> {
  const name = check.name('input.name', spec.name);
  if (name.length > 100) throw badInput('input.name', 'must be at most 100 characters');
  if (spec.scopes.length === 0) throw badInput('input.scopes', `must name at least one of ${Object.values(TokenScope).join(', ')}`);
  if (spec.scopes.includes(TokenScope.ADMIN) && !user.admin) {
    throw badInput('input.scopes', `ADMIN can only be granted to an admin user; "${user.name}" is not one`);
  }
  const expiresAt =
    spec.expiresInDays === null
      ? null
      : new Date(Date.now() + check.integer('input.expiresInDays', spec.expiresInDays, 1, MAX_TOKEN_DAYS) * 86_400_000);
  if (await em.count(ApiToken, { user, name })) throw userError('CONFLICT', 'input.name', `"${user.name}" has a token named "${name}"`);
  const secret = newToken();
  const token = em.create(ApiToken, {
    user,
    name,
    secretHash: secretDigest(secret),
    prefix: secret.slice(0, 8),
    scopes: [...new Set(spec.scopes)],
    expiresAt,
  });
  await em.flush();
  return { token, secret };
}

/** Adds a member or changes their role; `projectId` and `userId` must exist. */
export async function addMember(orm: Orm | EntityManager, projectId: string, userId: string, role: ProjectRole): Promise<ProjectMember> {
  const em = 'em' in orm ? orm.em.fork() : orm;
  const project = await em.findOne(Project, { id: projectId });
  if (!project) throw notFound('projectId', 'project', projectId);
  const user = await em.findOne(User, { id: userId });
  if (!user) throw notFound('userId', 'user', userId);
  const member = (await em.findOne(ProjectMember, { project, user })) ?? em.create(ProjectMember, { project, user, role });
  member.role = role;
  await em.flush();
  return member;
}
