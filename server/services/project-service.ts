import type { EntityManager } from '@mikro-orm/core';
import { ProjectRole } from '../../schema/enums';
import type { Caller } from '../auth/caller';
import type { Orm } from '../db/orm';
import { Project, ProjectMember, User } from '../entities';
import { userError } from '../errors';
import type { CreateProjectInput } from '../../schema/inputs';
import { checkUserName } from '../auth/users';
import * as check from '../validation';
import { findProject, inReadableProjects } from './lookup';

export class ProjectService {
  constructor(private readonly orm: Orm) {}

  /** The creator becomes the project's owner (the local user, who owns everything anyway, adds no member). */
  async create(caller: Caller, input: CreateProjectInput): Promise<Project> {
    const name = check.name('input.name', input.name);
    const description = check.text('input.description', input.description);
    return this.orm.em.fork().transactional(async (em) => {
      if (await em.count(Project, { name })) throw userError('CONFLICT', 'input.name', `a project named "${name}" already exists`);
      const project = em.create(Project, { name, description });
      if (caller.userId) em.create(ProjectMember, { project, user: caller.userId, role: ProjectRole.OWNER });
      return project;
    });
  }

  async list(caller: Caller): Promise<Project[]> {
    const where = await inReadableProjects(caller, 'projectId', null);
    const ids = where.project;
    return this.orm.em.fork().find(Project, ids === undefined ? {} : { id: ids }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** A project the caller has `need` in; one it cannot see answers as a missing one. */
  get(caller: Caller, id: string, need = ProjectRole.VIEWER, field = 'id'): Promise<Project> {
    return findProject(this.orm.em.fork(), caller, need, field, id);
  }

  async members(caller: Caller, projectId: string): Promise<ProjectMember[]> {
    const project = await this.get(caller, projectId);
    return this.orm.em.fork().find(ProjectMember, { project: project.id }, { populate: ['user'], orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** Adds a member or changes their role; owners only. A project always keeps one owner. */
  async setMember(caller: Caller, projectId: string, userName: string, role: ProjectRole): Promise<ProjectMember> {
    const project = await this.get(caller, projectId, ProjectRole.OWNER, 'input.projectId');
    const name = checkUserName('input.user', userName);
    return this.orm.em.fork().transactional(async (em) => {
      const user = await em.findOne(User, { name });
      if (!user) throw userError('NOT_FOUND', 'input.user', `no user named "${name}"`);
      const member = (await em.findOne(ProjectMember, { project: project.id, user })) ?? em.create(ProjectMember, { project: project.id, user, role });
      if (member.role === ProjectRole.OWNER && role !== ProjectRole.OWNER) await this.keepAnOwner(em, project.id, 'input.role');
      member.role = role;
      return member;
    });
  }

  async removeMember(caller: Caller, projectId: string, userName: string): Promise<boolean> {
    const project = await this.get(caller, projectId, ProjectRole.OWNER, 'projectId');
    return this.orm.em.fork().transactional(async (em) => {
      const member = await em.findOne(ProjectMember, { project: project.id, user: { name: checkUserName('user', userName) } });
      if (!member) return false;
      if (member.role === ProjectRole.OWNER) await this.keepAnOwner(em, project.id, 'user');
      em.remove(member);
      return true;
    });
  }

  private async keepAnOwner(em: EntityManager, projectId: string, field: string): Promise<void> {
    const owners = await em.count(ProjectMember, { project: projectId, role: ProjectRole.OWNER });
    if (owners <= 1) throw userError('FAILED_PRECONDITION', field, 'a project must keep at least one owner');
  }
}
