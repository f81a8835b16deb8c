import { raw, type EntityManager, type EntityName } from '@mikro-orm/core';
import { ProjectRole } from '../../schema/enums';
import { Caller, forbidden } from '../auth/caller';
import { Candidate, Project } from '../entities';
import { badInput, notFound } from '../errors';
import { uuid } from '../validation';

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
  const found = await em.findOne(entity, { id: uuid(field, id) } as never);
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
  const found = (await em.findOne(entity, { id: await resolveId(em, caller, entity, label, field, id) } as never)) as T | null;
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

/** A `where` restricted to the projects the caller may read, and to `projectId` (an id or a prefix) when one is asked for. */
export async function inReadableProjects(caller: Caller, field: string, projectId: string | null | undefined): Promise<Record<string, unknown>> {
  const readable = await caller.readableProjects();
  if (!projectId) return readable === null ? {} : { project: { $in: readable } };
  const asked = await filterId(caller.reader(), caller, Project, 'project', field, projectId);
  // resolveId returns a whole id as given: one of a project the caller cannot read filters to nothing.
  const visible = asked !== null && (readable === null || readable.includes(asked));
  return { project: visible ? asked : { $in: [] } };
}

/** Loads a project the caller has `need` in; one it cannot see answers as a missing one. */
export async function findProject(em: EntityManager, caller: Caller, need: ProjectRole, field: string, id: string): Promise<Project> {
  const project = await em.findOne(Project, { id: await resolveId(em, caller, Project, 'project', field, id) });
  if (!project) throw notFound(field, 'project', id);
  await requireRole(caller, need, project.id, () => notFound(field, 'project', id), em);
  return project;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Shorter prefixes match too much to be worth pasting; Git shows 7. */
export const MIN_ID_PREFIX = 6;

/**
 * The id a user gave as a whole UUID, or as a unique prefix of one (at least MIN_ID_PREFIX hex
 * digits) among the ids of `entity` in the projects the caller may read; a candidate also by a
 * prefix of its config hash. A whole UUID is returned as is, whether or not it exists. A prefix
 * that matches nothing the caller may read fails as an unknown id does (NOT_FOUND), so a prefix
 * never tells whether ids exist in other projects; one that matches several fails with their count.
 */
export async function resolveId<T extends object>(em: EntityManager, caller: Caller, entity: EntityName<T>, label: string, field: string, given: string): Promise<string> {
  if (UUID.test(given)) return given.toLowerCase();
  const prefix = given.toLowerCase();
  const byHash = entity === Candidate;
  if (!/^[0-9a-f-]*$/.test(prefix) || prefix.replace(/-/g, '').length < MIN_ID_PREFIX) {
    const what = byHash ? 'of an id or of a config hash' : 'of one';
    throw badInput(field, `must be an id: a UUID, or a unique prefix ${what} of at least ${MIN_ID_PREFIX} hex digits, got "${given}"`);
  }
  const pattern = `${prefix}%`;
  // The cast lets one LIKE serve PostgreSQL's uuid columns and SQLite's text ones.
  const idMatches = { [raw((alias) => `cast(${alias}.id as text)`)]: { $like: pattern } };
  const matching = byHash ? { $or: [idMatches, { configHash: { $like: pattern } }] } : idMatches;
  const readable = await caller.readableProjects();
  const visible = readable === null ? {} : entity === Project ? { id: { $in: readable } } : { project: { $in: readable } };
  const found = await em.find(entity, { $and: [matching, visible] } as never, { fields: ['id'] as never, limit: 100 });
  if (found.length === 0) throw notFound(field, label, given);
  if (found.length > 1) {
    const count = found.length === 100 ? 'at least 100' : String(found.length);
    throw badInput(field, `"${given}" is the start of ${count} ${label} ids${byHash ? ' or config hashes' : ''}; give more of it`);
  }
  return (found[0] as unknown as { id: string }).id;
}

/** `resolveId` for a filter: null when nothing the caller may read matches, which filters to nothing as an unknown id does. */
export async function filterId<T extends object>(em: EntityManager, caller: Caller, entity: EntityName<T>, label: string, field: string, given: string): Promise<string | null> {
  try {
    return await resolveId(em, caller, entity, label, field, given);
  } catch (error) {
    if ((error as { extensions?: { code?: string } }).extensions?.code === 'NOT_FOUND') return null;
    throw error;
  }
}
