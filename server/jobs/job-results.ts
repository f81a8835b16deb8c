import type { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { BlobRef } from '../../executors/contract';
import { BnMode, CandidateSource, JobKind } from '../../schema/enums';
import { Candidate, type Job, RankingStudy, RankingStudyConfig, SlimmingTrajectory, Supernet, type SupernetScore } from '../entities';
import type { EvaluatePayload, EvaluateResult } from '../../executors/onnx/evaluate-plugin';
import { advanceDemo } from '../services/demo-service';
import { queueInheritedAccuracy } from '../services/evaluation-jobs';
import { queueJob } from './new-job';
import type { JobQueue } from './queue';

/**
 * Why a job's result cannot be recorded, or null when it can: an EVALUATE result must score each
 * config and BN mode the job asked for exactly once. A refused result fails its job.
 */
export function refusal(job: Job, result: unknown): string | null {
  if (job.kind !== JobKind.EVALUATE) return null;
  const why = evaluationRefusal(job.payload as unknown as EvaluatePayload, result);
  return why && `the EVALUATE result was refused: ${why}`;
}

/**
 * What a job's success changes beyond the job, in the transaction that records it: a finished
 * SLIM queues the evaluation of its candidates' inherited accuracy; an EVALUATE result (one that
 * `refusal` let through) is stored on the candidates or the ranking study it scored; a stage of a
 * demo queues the next stage. Answers the jobs it queued, to publish.
 */
export async function settleResult(em: EntityManager, queue: JobQueue, job: Job, rowLock: { lockMode?: LockMode }): Promise<Job[]> {
  const queued: Job[] = [];
  if (job.kind === JobKind.SLIM && job.subjectType === SlimmingTrajectory.name && job.subjectId) {
    const evaluation = await queueTrajectoryEvaluation(em, queue, job.subjectId, (job.payload as { checkpoint: BlobRef }).checkpoint);
    if (evaluation) queued.push(evaluation);
  }
  if (job.kind === JobKind.EVALUATE) {
    const scores = (job.result as unknown as EvaluateResult).results;
    if (job.subjectType === RankingStudy.name) await saveStudyScores(em, job.subjectId!, scores);
    if (job.subjectType === Supernet.name) await saveInheritedAccuracy(em, job, job.subjectId!, scores);
  }
  queued.push(...(await advanceDemo(em, { create: (tx, spec) => queueJob(tx, queue, spec) }, job, rowLock)));
  return queued;
}

/** The trajectory's AutoSlim candidates, sliced from the checkpoint the walk itself used. */
async function queueTrajectoryEvaluation(em: EntityManager, queue: JobQueue, trajectoryId: string, checkpoint: BlobRef): Promise<Job | null> {
  const trajectory = await em.findOneOrFail(SlimmingTrajectory, trajectoryId, { populate: ['supernet.searchSpace', 'supernet.dataset', 'supernet.run'] });
  const candidates = await em.find(Candidate, { trajectory, source: CandidateSource.AUTOSLIM }, { orderBy: { macs: 'asc', id: 'asc' } });
  return queueInheritedAccuracy(em, queue, trajectory.supernet, checkpoint, candidates);
}

type Score = EvaluateResult['results'][number];

async function saveStudyScores(em: EntityManager, studyId: string, scores: readonly Score[]): Promise<void> {
  const configs = await em.find(RankingStudyConfig, { study: studyId });
  for (const config of configs) {
    config.scores = scores
      .filter((s) => s.key === config.candidate.id)
      .map((s): SupernetScore => ({ bnMode: BnMode[s.bnMode], accuracy: s.top1, loss: s.loss }))
      .sort((a, b) => a.bnMode.localeCompare(b.bnMode));
  }
  await em.flush();
}

/**
 * A candidate's inherited accuracy belongs to one supernet: the first whose evaluation reaches it
 * sets it, and only that supernet's later evaluations replace it.
 */
async function saveInheritedAccuracy(em: EntityManager, job: Job, supernetId: string, scores: readonly Score[]): Promise<void> {
  for (const score of scores.filter((s) => s.bnMode === BnMode.RECALIBRATED)) {
    await em.nativeUpdate(
      Candidate,
      { id: score.key, project: job.project, $or: [{ inheritedFrom: null }, { inheritedFrom: supernetId }] },
      { inheritedTop1: score.top1, inheritedFrom: supernetId },
    );
  }
}

/** What is wrong with an EVALUATE result, or null: one score per config and BN mode asked for, each in range. */
function evaluationRefusal(payload: EvaluatePayload, result: unknown): string | null {
  const results = (result as Partial<EvaluateResult> | null)?.results;
  if (!Array.isArray(results)) return 'it has no results list';
  const keys = new Set(payload.configs.map((c) => c.key));
  const scored = new Set<string>();
  for (const [i, r] of (results as Partial<Score>[]).entries()) {
    if (typeof r?.key !== 'string' || !keys.has(r.key)) return `results[${i}].key is not a config of the job`;
    if (!r.bnMode || !payload.bnModes.includes(r.bnMode)) return `results[${i}].bnMode ${String(r.bnMode)} was not asked for`;
    if (typeof r.top1 !== 'number' || !(r.top1 >= 0 && r.top1 <= 1)) return `results[${i}].top1 must be in [0, 1]`;
    if (typeof r.loss !== 'number' || !Number.isFinite(r.loss)) return `results[${i}].loss must be a finite number`;
    const pair = `${r.key} in ${r.bnMode}`;
    if (scored.has(pair)) return `results[${i}] scores ${pair} a second time`;
    scored.add(pair);
  }
  for (const config of payload.configs) {
    for (const bnMode of payload.bnModes) {
      if (!scored.has(`${config.key} in ${bnMode}`)) return `it leaves out config ${config.key} in ${bnMode}`;
    }
  }
  return null;
}
