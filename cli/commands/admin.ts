import type { EntityManager } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { ProjectRole, TokenScope } from '../../schema/enums';
import { addMember, createToken, createUser, userNamed } from '../../server/auth/users';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/orm';
import { Project } from '../../server/entities';
import { CliError, usageError } from '../errors';
import type { Io } from '../io';

export interface AdminOptions {
  readonly admin?: boolean;
  readonly 'no-password'?: boolean;
  readonly scope?: string;
  readonly name?: string;
  readonly 'expires-days'?: string;
  readonly role?: string;
}

const USAGE = 'admin create-user NAME [--admin] [--no-password] | create-token USER --scope read,write [--name N] [--expires-days N] | add-member PROJECT USER --role viewer|editor|owner';

/**
 * `slimlab admin …`: bootstrap users, tokens and memberships directly in the database named by
 * SLIMLAB_DATABASE_URL (or the default SQLite file), so the first admin needs no credential.
 * Whoever can run this can read the database anyway.
 */
export async function runAdmin(args: readonly string[], options: AdminOptions, io: Io): Promise<void> {
  const [action, ...rest] = args;
  const step = plan(action, rest, options);
  const { orm } = await openDatabase(loadConfig(io.env).database);
  try {
    await step(orm.em.fork(), io);
  } catch (error) {
    // The server's checks answer as GraphQL errors naming the field; here they are the user's to fix.
    if (error instanceof GraphQLError) throw usageError(error.message);
    throw error;
  } finally {
    await orm.close(true);
  }
}

type Step = (em: EntityManager, io: Io) => Promise<void>;

function plan(action: string | undefined, rest: readonly string[], options: AdminOptions): Step {
  switch (action) {
    case 'create-user': {
      const [name] = exactly(action, rest, 1);
      return async (em, io) => {
        const password = options['no-password'] ? null : await newPassword(io, name!);
        const user = await createUser(em, { name: name!, password, admin: options.admin === true });
        io.out(`created ${user.admin ? 'admin ' : ''}user ${user.name} (${user.id})${password === null ? '; it signs in with tokens only' : ''}\n`);
      };
    }
    case 'create-token': {
      const [userName] = exactly(action, rest, 1);
      const scopes = parseScopes(options.scope);
      const expiresInDays = options['expires-days'] === undefined ? null : Number(options['expires-days']);
      if (expiresInDays !== null && !Number.isInteger(expiresInDays)) throw usageError('--expires-days must be a whole number of days');
      return async (em, io) => {
        const user = await userNamed(em, 'USER', userName!);
        const { token, secret } = await createToken(em, user, { name: options.name ?? `cli-${new Date().toISOString()}`, scopes, expiresInDays });
        io.err(`token "${token.name}" for ${user.name}, scopes ${token.scopes.join(', ')}${token.expiresAt ? `, expires ${token.expiresAt.toISOString()}` : ', no expiry'}; it is shown once:\n`);
        io.out(`${secret}\n`);
      };
    }
    case 'add-member': {
      const [projectName, userName] = exactly(action, rest, 2);
      const role = Object.values(ProjectRole).find((r) => r === options.role?.toUpperCase());
      if (!role) throw usageError('--role must be viewer, editor or owner');
      return async (em, io) => {
        const project = await em.findOne(Project, { name: projectName! });
        if (!project) throw new CliError(`no project named "${projectName}"`, 2);
        const user = await userNamed(em, 'USER', userName!);
        await addMember(em, project.id, user.id, role);
        io.out(`${user.name} is ${role} of ${project.name}\n`);
      };
    }
    default:
      throw usageError(`usage: slimlab ${USAGE}`);
  }
}

function exactly(action: string, rest: readonly string[], count: number): readonly string[] {
  if (rest.length !== count) throw usageError(`admin ${action} takes ${count} argument${count === 1 ? '' : 's'}; usage: slimlab ${USAGE}`);
  return rest;
}

function parseScopes(raw: string | undefined): TokenScope[] {
  if (!raw) throw usageError(`--scope is required: a comma-separated list of ${Object.values(TokenScope).join(', ').toLowerCase()}`);
  return raw.split(',').map((part) => {
    const scope = Object.values(TokenScope).find((s) => s === part.trim().toUpperCase());
    if (!scope) throw usageError(`--scope: "${part}" is not one of ${Object.values(TokenScope).join(', ').toLowerCase()}`);
    return scope;
  });
}

/** Read from stdin, never from the command line (which `ps` shows); typed twice on a terminal. */
async function newPassword(io: Io, name: string): Promise<string> {
  const password = await io.readSecret(`password for ${name}: `);
  if (process.stdin.isTTY && (await io.readSecret('again: ')) !== password) throw usageError('the passwords differ');
  return password;
}
