import type { Api } from '../api';
import type { Io } from '../io';
import { humanCount } from '../../autoslim';
import { formatTable, percent, shortId } from '../table';

interface Row {
  id: string;
  configHash: string;
  source: string;
  macs: number;
  params: number;
  searchAccuracy: number | null;
  retrainedTop1Mean: number | null;
  retrainedTop1Std: number | null;
  retrainedRuns: number;
}

const SHOWN = 100;

/** The search space's candidates by increasing MACs, as a table on stdout; the id column is what `slimlab export` takes. */
export async function printLeaderboard(api: Api, io: Io, searchSpaceId: string): Promise<void> {
  const { candidates } = await api.request<{ candidates: { totalCount: number; edges: { node: Row }[] } }>(
    `query($s: ID!, $first: Int!) { candidates(filter: { searchSpaceId: $s }, first: $first, orderBy: { field: MACS, direction: ASC }) {
      totalCount edges { node { id configHash source macs params searchAccuracy retrainedTop1Mean retrainedTop1Std retrainedRuns } } } }`,
    { s: searchSpaceId, first: SHOWN },
  );
  const rows = candidates.edges.map(({ node: c }) => [
    shortId(c.id),
    c.configHash.slice(0, 10),
    c.source.toLowerCase(),
    humanCount(c.macs),
    humanCount(c.params),
    percent(c.searchAccuracy),
    c.retrainedTop1Mean == null
      ? '-'
      : `${percent(c.retrainedTop1Mean)}${c.retrainedTop1Std == null ? '' : ` ± ${(c.retrainedTop1Std * 100).toFixed(2)}`} (n=${c.retrainedRuns})`,
  ]);
  io.out(formatTable(['id', 'config', 'source', 'MACs', 'params', 'search acc', 'retrained top-1'], rows, [false, false, false, true, true, true, true]));
  if (candidates.totalCount > SHOWN) io.out(`… and ${candidates.totalCount - SHOWN} more; see the web leaderboard\n`);
}
