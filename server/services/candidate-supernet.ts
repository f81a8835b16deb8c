import type { EntityManager } from '@mikro-orm/core';
import { ProjectRole } from '../../schema/enums';
import type { Caller } from '../auth/caller';
import type { Artifact, Candidate } from '../entities';
import { Supernet } from '../entities';
import { badInput, userError } from '../errors';
import { findInProject } from './lookup';

export interface CandidateSupernet {
  readonly supernet: Supernet;
  readonly checkpoint: Artifact;
}

/**
 * The supernet whose first-k slices give a candidate its weights, and its latest checkpoint:
 * `supernetId` when given (a supernet of the candidate's search space the caller can read), else
 * the supernet of the candidate's trajectory. `field` is the supernetId input's path; `otherwise`
 * says what else the caller could give when the candidate has no trajectory.
 */
export async function candidateSupernet(
  em: EntityManager,
  caller: Caller,
  candidate: Candidate,
  supernetId: string | null | undefined,
  field: string,
  otherwise: string,
): Promise<CandidateSupernet> {
  await em.populate(candidate, ['trajectory.supernet']);
  let supernet: Supernet;
  if (supernetId) {
    supernet = await findInProject(em, caller, ProjectRole.VIEWER, Supernet, 'supernet', field, supernetId);
    if (supernet.searchSpace.id !== candidate.searchSpace.id) throw badInput(field, "must be a supernet of the candidate's search space");
  } else if (candidate.trajectory) {
    supernet = candidate.trajectory.supernet;
  } else {
    throw badInput(field, `a ${candidate.source} candidate belongs to no trajectory: ${otherwise}`);
  }
  await em.populate(supernet, ['run.checkpoint', 'dataset']);
  const checkpoint = supernet.run.checkpoint;
  if (!checkpoint) throw userError('FAILED_PRECONDITION', field, 'the supernet has no checkpoint yet; wait for its training to save one');
  return { supernet, checkpoint };
}
