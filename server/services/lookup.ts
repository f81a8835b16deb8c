import type { EntityManager, EntityName } from '@mikro-orm/core';
import { ProjectRole } from '../../schema/enums';
import { Caller, forbidden } from '../auth/caller';
import { Project } from '../entities';
import { notFound } from '../errors';
import * as check from '../validation';

/** Entities that belong to a project, and so are read and written only by its members. */
export interface ProjectOwned {
  readonly id: string;
  readonly project: { readonly id: string } | null;
}

/**
 * Loads an entity that belongs to no project (a device, a worker) by a user-given id, or fails
 * with NOT_FOUND naming the field. Project-owned entities go through `findInProject`: the type
 * refuses them here, so no lookup can skip the membership check.
 */
export async function findOrReject<T extends object>(
  em: EntityManager,
  entity: EntityName<T> & (T extends { project: unknown } ? never : unknown),
  label: string,
  field: string,
  id: string,
): Promise<T> {
  const found = await em.findOne(entity, { id: check.uuid(field, id) } as never);
  if (!found) throw notFound(field, label, id);
  return found as T;
}

/**
 * Loads a project-owned entity the caller may use with `need`. One the caller cannot see answers
 * exactly as a missing one does, so ids of other projects leak nothing; one it can see but not
 * change names the role it would need.
 */
export async function findInProject<T extends ProjectOwned>(
  em: EntityManager,
  caller: Caller,
  need: ProjectRole,
  entity: EntityName<T>,
  label: string,
  field: string,
  id: string,
): Promise<T> {
  const found = (await em.findOne(entity, { id: check.uuid(field, id) } as never)) as T | null;
  if (!found) throw notFound(field, label, id);
  await requireRole(caller, need, found.project?.id ?? null, () => notFound(field, label, id), em);
  return found;
}

/** Fails unless the caller has `need` in the project; `hidden` is the error when it cannot even see it. */
export async function requireRole(caller: Caller, need: ProjectRole, projectId: string | null, hidden: () => Error, em?: EntityManager): Promise<void> {
  // Entities of no project (a few artifacts) are the admins'.
  const role = projectId === null ? (caller.admin ? ProjectRole.OWNER : null) : await caller.roleIn(projectId, em);
  if (!role) throw hidden();
  if (!Caller.allows(role, need)) throw forbidden(`this needs role ${need} in the project; the caller is ${role}`);
}

/** A `where` restricted to the projects the caller may read, and to `projectId` when one is asked for. */
export async function inReadableProjects(caller: Caller, field: string, projectId: string | null | undefined): Promise<Record<string, unknown>> {
  const asked = projectId ? check.uuid(field, projectId) : null;
  const readable = await caller.readableProjects();
  if (readable === null) return asked ? { project: asked } : {};
  if (asked) return { project: readable.includes(asked) ? asked : { $in: [] } };
  return { project: { $in: readable } };
}

/** Loads a project the caller has `need` in; one it cannot see answers as a missing one. */
export async function findProject(em: EntityManager, caller: Caller, need: ProjectRole, field: string, id: string): Promise<Project> {
  const project = await em.findOne(Project, { id: check.uuid(field, id) });
  if (!project) throw notFound(field, 'project', id);
  await requireRole(caller, need, project.id, () => notFound(field, 'project', id), em);
  return project;
}
