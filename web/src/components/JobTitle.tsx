import { routeHref } from '../route';

/** What the jobs view needs of a job to name it. */
export interface NamedJob {
  readonly kind: string;
  readonly subjectType: string | null;
  readonly subjectId: string | null;
  readonly payload: Record<string, unknown>;
}

interface Props {
  readonly job: NamedJob;
  readonly projectId: string;
  /** Supernet names by id: jobs carry only the id. */
  readonly supernets: ReadonlyMap<string, string>;
}

/** "Export of candidate 1a2b3c4d": the kind and what it works on, each subject a link to its page. */
export function JobTitle({ job, projectId, supernets }: Props) {
  const text = (key: string) => (typeof job.payload[key] === 'string' ? (job.payload[key] as string) : null);
  // An evaluation of inherited accuracy names its supernet only as its subject.
  const supernetId = text('supernetId') ?? (job.subjectType === 'Supernet' ? job.subjectId : null);
  const candidateId = text('candidateId');
  const supernet = supernetId && (
    <a href={routeHref('supernet', { project: projectId, supernet: supernetId })}>supernet {supernets.get(supernetId) ?? supernetId.slice(0, 8)}</a>
  );
  const candidate = candidateId && <a href={routeHref('compare', { project: projectId, a: candidateId })}>candidate {candidateId.slice(0, 8)}</a>;
  switch (job.kind) {
    case 'TRAIN_SUPERNET':
      return <span class="job-title">Training of {supernet}</span>;
    case 'SLIM':
      return (
        <span class="job-title">
          Slimming of {supernet} · <a href={routeHref('trajectory', { project: projectId, trajectory: text('trajectoryId') ?? job.subjectId })}>trajectory</a>
        </span>
      );
    case 'RETRAIN': {
      const seed = (job.payload.recipe as { seed?: number } | undefined)?.seed;
      const from = job.payload.init === 'SUPERNET' ? ', from the supernet' : '';
      return (
        <span class="job-title">
          Retraining of {candidate}
          {seed !== undefined && `, seed ${seed}`}
          {from}
        </span>
      );
    }
    case 'EXPORT':
      return <span class="job-title">Export of {candidate}</span>;
    case 'EVALUATE':
      return job.subjectType === 'RankingStudy' && job.subjectId ? (
        <span class="job-title">
          Evaluation for a <a href={routeHref('study', { project: projectId, study: job.subjectId })}>ranking study</a>
        </span>
      ) : (
        <span class="job-title">Evaluation of candidates sliced from {supernet ?? 'a supernet'}</span>
      );
    case 'PROFILE_LATENCY':
      return <span class="job-title">Latency profile of {candidate ?? 'a search space'}</span>;
    default:
      return <span class="job-title">{job.kind}</span>;
  }
}
