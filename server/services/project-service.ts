import type { Orm } from '../db/orm';
import { Project } from '../entities';
import { userError } from '../errors';
import type { CreateProjectInput } from '../../schema/inputs';
import * as check from '../validation';
import { findOrReject } from './lookup';

export class ProjectService {
  constructor(private readonly orm: Orm) {}

  async create(input: CreateProjectInput): Promise<Project> {
    const name = check.name('input.name', input.name);
    const description = check.text('input.description', input.description);
    return this.orm.em.fork().transactional(async (em) => {
      if (await em.count(Project, { name })) throw userError('CONFLICT', 'input.name', `a project named "${name}" already exists`);
      return em.create(Project, { name, description });
    });
  }

  list(): Promise<Project[]> {
    return this.orm.em.fork().find(Project, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** The project, or NOT_FOUND naming `field` (the argument or parameter that carried the id). */
  get(id: string, field = 'id'): Promise<Project> {
    return findOrReject(this.orm.em.fork(), Project, 'project', field, id);
  }
}
