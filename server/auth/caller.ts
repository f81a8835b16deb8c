import type { EntityManager, EntityName } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { ProjectRole, TokenScope } from '../../schema/enums';
import type { Orm } from '../db/orm';
import { ProjectMember } from '../entities';
import { hasScope, isAdmin, type Principal } from './principal';

const RANK: Record<ProjectRole, number> = { [ProjectRole.VIEWER]: 1, [ProjectRole.EDITOR]: 2, [ProjectRole.OWNER]: 3 };

/** A live subscription re-reads memberships this often, so a removed member stops receiving events. */
const MEMBERSHIP_TTL_MS = 5_000;

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

export function unauthenticated(message = 'sign in, or send an API token (Authorization: Bearer <token>)'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * The principal of one request (or one subscription) and what it may touch. Project membership is
 * read once per request; admins and the local user are members of everything as owners.
 */
export class Caller {
  private memberships: { at: number; roles: Promise<Map<string, ProjectRole>> } | null = null;
  /** The project of each entity a subscription asked about; an entity never changes project. */
  private readonly projects = new Map<string, Promise<string | null>>();

  constructor(
    readonly principal: Principal,
    private readonly orm: Orm,
  ) {}

  get admin(): boolean {
    return isAdmin(this.principal);
  }

  /** The user id of a signed-in caller; null for the local user. */
  get userId(): string | null {
    return this.principal.kind === 'user' ? this.principal.userId : null;
  }

  requireScope(scope: TokenScope): void {
    if (hasScope(this.principal, scope)) return;
    throw forbidden(`this needs a credential with scope ${scope}; the one sent does not have it`);
  }

  requireAdmin(): void {
    if (!this.admin) throw forbidden('this needs an admin signed in (or an admin token with scope ADMIN)');
  }

  /**
   * `em`: the caller's transaction, if any. SQLite has one connection, so a lookup on another
   * EntityManager would wait for the transaction that is waiting for it.
   */
  async roleIn(projectId: string, em?: EntityManager): Promise<ProjectRole | null> {
    if (this.admin) return ProjectRole.OWNER;
    return (await this.roles(em)).get(projectId) ?? null;
  }

  /** The projects the caller may read; null: all of them. */
  async readableProjects(): Promise<string[] | null> {
    if (this.admin) return null;
    return [...(await this.roles()).keys()];
  }

  /** Whether the caller may read a project-owned entity; false also when it does not exist. */
  async mayRead(entity: EntityName<{ id: string; project: { id: string } }>, id: string): Promise<boolean> {
    let project = this.projects.get(id);
    if (!project) {
      project = this.reader()
        .findOne(entity, { id }, { fields: ['project'] as never })
        .then((found) => found?.project.id ?? null);
      this.projects.set(id, project);
    }
    const projectId = await project;
    return projectId !== null && (await this.roleIn(projectId)) !== null;
  }

  /** Whether `role` suffices for `need`. */
  static allows(role: ProjectRole, need: ProjectRole): boolean {
    return RANK[role] >= RANK[need];
  }

  private roles(em?: EntityManager): Promise<Map<string, ProjectRole>> {
    const userId = this.userId;
    if (!userId) return Promise.resolve(new Map());
    if (!this.memberships || performance.now() - this.memberships.at > MEMBERSHIP_TTL_MS) {
      const roles = (em ?? this.reader())
        .find(ProjectMember, { user: userId })
        .then((members) => new Map(members.map((member) => [member.project.id, member.role])));
      this.memberships = { at: performance.now(), roles };
    }
    return this.memberships.roles;
  }

  /**
   * An entity manager for the caller's own reads that joins the transaction it is asked from, if
   * any: services look entities up inside their transaction, and a read on another connection would
   * wait for the one the transaction holds (SQLite has only one), which waits for the read.
   */
  reader() {
    return this.orm.em.fork({ keepTransactionContext: true });
  }
}
