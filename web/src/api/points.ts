import { gql } from './client';
import type { CandidateSource, Interval } from './types';

/** What the Pareto rank and plot need of every candidate of a search space. */
export interface CandidatePoint {
  readonly id: string;
  readonly configHash: string;
  readonly source: CandidateSource;
  readonly macs: number;
  readonly searchAccuracy: number | null;
  readonly retrainedTop1Mean: number | null;
  readonly retrainedTop1: Interval | null;
}

const PAGE = `query Points($filter: CandidateFilter!, $after: String) {
  candidates(filter: $filter, first: 500, after: $after, orderBy: { field: MACS, direction: ASC }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id configHash source macs searchAccuracy retrainedTop1Mean retrainedTop1 { estimate low high n confidence } } }
  }
}`;

interface PointsPage {
  candidates: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: CandidatePoint }[] };
}

/** Every candidate of a search space, a few fields each, in the API's largest pages. */
export async function loadAllPoints(searchSpaceId: string): Promise<CandidatePoint[]> {
  const points: CandidatePoint[] = [];
  let after: string | null = null;
  do {
    const { candidates }: PointsPage = await gql<PointsPage>(PAGE, { filter: { searchSpaceId }, after });
    points.push(...candidates.edges.map((e) => e.node));
    after = candidates.pageInfo.hasNextPage ? candidates.pageInfo.endCursor : null;
  } while (after);
  return points;
}
