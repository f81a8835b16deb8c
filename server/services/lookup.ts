import type { EntityManager, EntityName } from '@mikro-orm/core';
import { notFound } from '../errors';
import * as check from '../validation';

/** Loads an entity by a user-given id, or fails with NOT_FOUND naming the field. */
export async function findOrReject<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  label: string,
  field: string,
  id: string,
): Promise<T> {
  const found = await em.findOne(entity, { id: check.uuid(field, id) } as never);
  if (!found) throw notFound(field, label, id);
  return found as T;
}
