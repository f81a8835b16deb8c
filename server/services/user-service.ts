import { TokenScope } from '../../schema/enums';
import type { CreateTokenInput, CreateUserInput } from '../../schema/inputs';
import { forbidden, type Caller } from '../auth/caller';
import { checkPassword, hashPassword, verifyPassword } from '../auth/passwords';
import { checkUserName, createToken, createUser, userNamed } from '../auth/users';
import type { Orm } from '../db/orm';
import { ApiToken, User, WebSession } from '../entities';
import { badInput, notFound } from '../errors';
import * as check from '../validation';

/** A user as the API shows it: never the password hash. */
export interface UserView {
  readonly id: string;
  readonly name: string;
  readonly admin: boolean;
  readonly hasPassword: boolean;
  readonly disabledAt: Date | null;
  readonly createdAt: Date;
}

/** The local user of single-user mode, who is not a row. */
const LOCAL_USER: UserView = { id: 'local', name: 'local', admin: true, hasPassword: false, disabledAt: null, createdAt: new Date(0) };

export function userView(user: User): UserView {
  return { id: user.id, name: user.name, admin: user.admin, hasPassword: user.passwordHash !== null, disabledAt: user.disabledAt, createdAt: user.createdAt };
}

/** Users and their API tokens. */
export class UserService {
  constructor(private readonly orm: Orm) {}

  async viewer(caller: Caller): Promise<UserView> {
    if (!caller.userId) return LOCAL_USER;
    return userView(await this.orm.em.fork().findOneOrFail(User, caller.userId));
  }

  async list(): Promise<UserView[]> {
    return (await this.orm.em.fork().find(User, {}, { orderBy: { name: 'asc' } })).map(userView);
  }

  async create(input: CreateUserInput): Promise<UserView> {
    return userView(await createUser(this.orm, { name: input.name, password: input.password ?? null, admin: input.admin }));
  }

  /** Disabling ends the user's sessions at once; their tokens stop working while disabled. */
  async setDisabled(caller: Caller, name: string, disabled: boolean): Promise<UserView> {
    const em = this.orm.em.fork();
    const user = await userNamed(em, 'user', checkUserName('user', name));
    if (user.id === caller.userId && disabled) throw badInput('user', 'you cannot disable yourself');
    user.disabledAt = disabled ? (user.disabledAt ?? new Date()) : null;
    if (disabled) await em.nativeDelete(WebSession, { user });
    await em.flush();
    return userView(user);
  }

  /** A user changes their own password with the current one; an admin sets anyone's without it. */
  async setPassword(caller: Caller, name: string | null | undefined, current: string | null | undefined, password: string): Promise<UserView> {
    const em = this.orm.em.fork();
    const user = name ? await userNamed(em, 'user', checkUserName('user', name)) : await this.self(caller, em, 'user');
    if (user.id !== caller.userId) caller.requireAdmin();
    else if (!caller.admin && (!user.passwordHash || !current || !(await verifyPassword(current, user.passwordHash)))) {
      throw badInput('currentPassword', 'is not the current password');
    }
    user.passwordHash = await hashPassword(checkPassword('password', password));
    // Other browsers signed in with the old password are signed out.
    await em.nativeDelete(WebSession, { user });
    await em.flush();
    return userView(user);
  }

  /** Who may hold which scope: WORKER runs any project's jobs and ADMIN manages users, so only an admin grants them. */
  async createToken(caller: Caller, input: CreateTokenInput): Promise<{ token: ApiToken; secret: string }> {
    const em = this.orm.em.fork();
    const user = input.user ? await userNamed(em, 'input.user', checkUserName('input.user', input.user)) : await this.self(caller, em, 'input.user');
    if (user.id !== caller.userId) caller.requireAdmin();
    check.list('input.scopes', input.scopes, 1, 4);
    if (!caller.admin && input.scopes.some((scope) => scope === TokenScope.WORKER || scope === TokenScope.ADMIN)) {
      throw forbidden('only an admin can grant the WORKER and ADMIN scopes');
    }
    if (!caller.admin && input.scopes.includes(TokenScope.WRITE)) caller.requireScope(TokenScope.WRITE);
    const created = await createToken(em, user, { name: input.name, scopes: input.scopes, expiresInDays: input.expiresInDays ?? null });
    return { token: created.token, secret: created.secret };
  }

  /** The caller's own tokens; with `name`, that user's (admin). */
  async tokens(caller: Caller, name: string | null | undefined): Promise<ApiToken[]> {
    const em = this.orm.em.fork();
    const user = name ? await userNamed(em, 'user', checkUserName('user', name)) : await this.self(caller, em, 'user');
    if (user.id !== caller.userId) caller.requireAdmin();
    return em.find(ApiToken, { user }, { populate: ['user'], orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async revokeToken(caller: Caller, id: string): Promise<ApiToken> {
    const em = this.orm.em.fork();
    const token = await em.findOne(ApiToken, { id: check.uuid('id', id) }, { populate: ['user'] });
    // Another user's token answers as a missing one unless the caller is an admin.
    if (!token || (token.user.id !== caller.userId && !caller.admin)) throw notFound('id', 'token', id);
    token.revokedAt ??= new Date();
    await em.flush();
    return token;
  }

  private async self(caller: Caller, em: ReturnType<Orm['em']['fork']>, field: string): Promise<User> {
    if (!caller.userId) throw badInput(field, 'is required in local mode, where there is no signed-in user');
    return em.findOneOrFail(User, caller.userId);
  }
}
