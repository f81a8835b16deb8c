import { gql } from './client';
import type { BnMode, CandidateSource, Interval } from './types';

/** What the Pareto rank and plot need of every candidate of a search space. */
export interface CandidatePoint {
  readonly id: string;
  readonly configHash: string;
  readonly source: CandidateSource;
  readonly macs: number;
  readonly searchAccuracy: number | null;
  readonly retrainedTop1Mean: number | null;
  readonly retrainedTop1: Interval | null;
  readonly inheritedTop1: number | null;
  /** AUTOSLIM: the trajectory that found it, whose BN mode its search accuracy was scored under. */
  readonly trajectory: { readonly bnMode: BnMode } | null;
  /** Test top-1 of the candidate's latest exported ONNX file. */
  readonly exportedTop1: number | null;
}

const PAGE = `query Points($filter: CandidateFilter!, $after: String) {
  candidates(filter: $filter, first: 500, after: $after, orderBy: { field: MACS, direction: ASC }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id configHash source macs searchAccuracy inheritedTop1 trajectory { bnMode } retrainedTop1Mean retrainedTop1 { estimate low high n confidence } } }
  }
}`;

/** The API keeps the newest jobs; an export older than these many no longer counts for the plot. */
const EXPORTS_READ = 500;

const EXPORTS = `query Exports($projectId: ID!, $first: Int!) {
  jobs(filter: { projectId: $projectId, kind: EXPORT, state: SUCCEEDED }, first: $first) { subjectId result }
}`;

interface PointsPage {
  candidates: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Omit<CandidatePoint, 'exportedTop1'> }[] };
}

/** Test top-1 of each candidate's newest finished export (jobs come newest first). */
export async function loadExportedTop1(projectId: string): Promise<Map<string, number>> {
  const { jobs } = await gql<{ jobs: { subjectId: string | null; result: { testTop1?: number } | null }[] }>(EXPORTS, { projectId, first: EXPORTS_READ });
  const latest = new Map<string, number>();
  for (const job of jobs) {
    const top1 = job.result?.testTop1;
    if (job.subjectId && typeof top1 === 'number' && !latest.has(job.subjectId)) latest.set(job.subjectId, top1);
  }
  return latest;
}

/** Every candidate of a search space, a few fields each, in the API's largest pages. */
export async function loadAllPoints(projectId: string, searchSpaceId: string): Promise<CandidatePoint[]> {
  const [points, exported] = await Promise.all([loadCandidates(searchSpaceId), loadExportedTop1(projectId)]);
  return points.map((p) => ({ ...p, exportedTop1: exported.get(p.id) ?? null }));
}

async function loadCandidates(searchSpaceId: string): Promise<Omit<CandidatePoint, 'exportedTop1'>[]> {
  const points: Omit<CandidatePoint, 'exportedTop1'>[] = [];
  let after: string | null = null;
  do {
    const { candidates }: PointsPage = await gql<PointsPage>(PAGE, { filter: { searchSpaceId }, after });
    points.push(...candidates.edges.map((e) => e.node));
    after = candidates.pageInfo.hasNextPage ? candidates.pageInfo.endCursor : null;
  } while (after);
  return points;
}
