import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { loadAllPoints } from '../api/points';
import type { CandidateOrderField, CandidatePage, CandidateRow, CandidateSource, Job, SortDirection } from '../api/types';
import { PredictedLatency, VALIDATION_FIELDS } from '../components/LatencyValidation';
import { Await, ErrorBox, Empty } from '../components/Status';
import { compact, milliseconds, percent, shortHash } from '../format';
import { useLoad, useQuery, useSubscription } from '../hooks';
import { accuracyBasis, basisLabel, paretoRanks, scoredPoints } from '../pareto';
import { navigate } from '../route';
import { accuracyInterval, differenceInterval, VERDICT_LABEL, verdictExplanation, widthLabel } from '../trust';

const PAGE_SIZE = 50;

const PAGE_QUERY = `query Leaderboard($filter: CandidateFilter!, $orderBy: CandidateOrder!, $first: Int!, $after: String) {
  candidates(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id configHash source macs params predictedLatencyMs predictedLatencyTable { ${VALIDATION_FIELDS} } measuredLatencyMs searchAccuracy
      retrainedTop1 { ...interval } fineTunedTop1 { ...interval } inheritedTop1
      comparison { baseline { id configHash macs widthMultiplier } budget difference { ...interval } verdict } } }
  }
}
fragment interval on Interval { estimate low high n confidence }`;

const TRAJECTORIES_QUERY = `query Trajectories($spaceId: ID!) {
  supernets(filter: { searchSpaceId: $spaceId }) { name trajectories { id constraint targets } }
}`;

const JOB_DONE = `subscription LeaderboardJobs($projectId: ID!) { jobUpdated(projectId: $projectId) { id state } }`;

interface Order {
  readonly field: CandidateOrderField;
  readonly direction: SortDirection;
}

interface Column {
  readonly title: string;
  /** What the column means, for the header's tooltip. */
  readonly explained?: string;
  /** The server-side sort key; columns without one are not sortable. */
  readonly sort?: CandidateOrderField;
  readonly numeric?: boolean;
  readonly cell: (row: CandidateRow) => ComponentChildren;
}

const SOURCE_LABEL: Record<CandidateSource, string> = { AUTOSLIM: 'AutoSlim', UNIFORM: 'uniform', IMPORTED: 'imported', SAMPLED: 'sampled' };

const OVER_SEEDS = 'mean over seeds ± half its 95% t-interval; n = seeds, and no interval below two';

const COLUMNS: readonly Column[] = [
  { title: 'Source', cell: (r) => SOURCE_LABEL[r.source] },
  { title: 'MACs', sort: 'MACS', numeric: true, cell: (r) => compact(r.macs) },
  { title: 'Params', sort: 'PARAMS', numeric: true, cell: (r) => compact(r.params) },
  {
    title: 'Latency (pred.)',
    explained: "Predicted by a latency table; ± its validation MAPE, and every validation figure in the cell's tooltip",
    numeric: true,
    cell: (r) => <PredictedLatency ms={r.predictedLatencyMs} table={r.predictedLatencyTable} />,
  },
  { title: 'Latency (meas.)', sort: 'MEASURED_LATENCY', numeric: true, cell: (r) => milliseconds(r.measuredLatencyMs) },
  { title: 'Search acc.', sort: 'SEARCH_ACCURACY', numeric: true, cell: (r) => percent(r.searchAccuracy) },
  {
    title: 'Inherited top-1',
    explained: 'Test top-1 of the weights sliced from the supernet, with batch norm recalibrated, before any training',
    numeric: true,
    cell: (r) => percent(r.inheritedTop1),
  },
  {
    title: 'Fine-tuned top-1',
    explained: `Test top-1 after training from the supernet's weights: ${OVER_SEEDS}`,
    numeric: true,
    cell: (r) => accuracyInterval(r.fineTunedTop1),
  },
  {
    title: 'Retrained top-1',
    explained: `Test top-1 after training from scratch: ${OVER_SEEDS}`,
    sort: 'RETRAINED_TOP1',
    numeric: true,
    cell: (r) => accuracyInterval(r.retrainedTop1),
  },
  {
    title: 'vs uniform width',
    explained:
      'AutoSlim candidates against the widest uniform width within the same budget, both retrained from scratch with the same seeds: the difference in top-1, paired by seed, ± half its 95% t-interval',
    cell: (r) => <Comparison row={r} />,
  },
];

function Comparison({ row }: { row: CandidateRow }) {
  const { comparison } = row;
  if (!comparison) {
    return row.source === 'AUTOSLIM' ? <span class="hint">no uniform candidate within its budget</span> : '—';
  }
  return (
    <span class="comparison" title={verdictExplanation(comparison)}>
      <span class={`badge verdict ${comparison.verdict.toLowerCase()}`}>{VERDICT_LABEL[comparison.verdict]}</span>{' '}
      <span class="difference">{comparison.difference ? differenceInterval(comparison.difference) : 'no shared seed'}</span>{' '}
      <span class="baseline">vs {widthLabel(comparison.baseline.widthMultiplier)}</span>
    </span>
  );
}

/** Costs read best ascending, accuracies descending. */
const FIRST_DIRECTION: Record<CandidateOrderField, SortDirection> = {
  CREATED_AT: 'DESC',
  MACS: 'ASC',
  PARAMS: 'ASC',
  MEASURED_LATENCY: 'ASC',
  SEARCH_ACCURACY: 'DESC',
  RETRAINED_TOP1: 'DESC',
};

interface Filter {
  readonly maxMacs: number | null;
  readonly source: CandidateSource | null;
  readonly trajectoryId: string | null;
}

export function Leaderboard({ projectId, spaceId }: { projectId: string; spaceId: string }) {
  const [order, setOrder] = useState<Order>({ field: 'MACS', direction: 'ASC' });
  const [filter, setFilter] = useState<Filter>({ maxMacs: null, source: null, trajectoryId: null });
  // Cursors of the pages before this one: keyset pagination can only go forward, so going back pops.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<string[]>([]);

  const after = cursors.at(-1) ?? null;
  const page = useQuery<{ candidates: CandidatePage }>(PAGE_QUERY, {
    filter: { searchSpaceId: spaceId, maxMacs: filter.maxMacs, source: filter.source, trajectoryId: filter.trajectoryId },
    orderBy: order,
    first: PAGE_SIZE,
    after,
  });
  // Ranking reads every candidate of the space; it waits for the first page so that it does not
  // compete with what the user is waiting to see.
  const [rankingStarted, setRankingStarted] = useState(false);
  useEffect(() => {
    if (page.state.status === 'ready') setRankingStarted(true);
  }, [page.state.status]);
  const points = useLoad(() => loadAllPoints(spaceId), rankingStarted ? spaceId : null);
  useSubscription<{ jobUpdated: Pick<Job, 'id' | 'state'> }>(JOB_DONE, { projectId }, ({ jobUpdated }) => {
    if (jobUpdated.state !== 'SUCCEEDED') return;
    page.reload();
    points.reload();
  });

  const ranking = useMemo(() => {
    if (points.state.status !== 'ready') return null;
    const basis = accuracyBasis(points.state.data);
    return { basis, ranks: paretoRanks(scoredPoints(points.state.data, basis)) };
  }, [points.state]);

  const sortBy = (field: CandidateOrderField) => {
    const direction = order.field === field ? (order.direction === 'ASC' ? 'DESC' : 'ASC') : FIRST_DIRECTION[field];
    setOrder({ field, direction });
    setCursors([null]);
  };
  const refilter = (change: Partial<Filter>) => {
    setFilter({ ...filter, ...change });
    setCursors([null]);
  };
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.slice(-1), id]));

  return (
    <section class="view leaderboard">
      <h2>Leaderboard</h2>
      <FilterBar spaceId={spaceId} filter={filter} onChange={refilter} />
      <div class="toolbar">
        <button
          disabled={selected.length !== 2}
          onClick={() => navigate('compare', { project: projectId, space: spaceId, a: selected[0], b: selected[1] })}
        >
          Compare selected ({selected.length}/2)
        </button>
        {ranking && <span class="hint">Pareto rank over MACs vs {basisLabel(ranking.basis)}, all candidates of this search space</span>}
        {points.state.status === 'error' && <span class="hint error">Pareto ranks unavailable: {points.state.message}</span>}
      </div>
      <Await
        state={page.state}
        what="candidates"
        ready={({ candidates }) =>
          candidates.totalCount === 0 ? (
            <Empty>
              <p>No candidates match.</p>
              <p>Candidates appear when a slimming job crosses a target, or when uniform baselines are created or a channel list is imported.</p>
            </Empty>
          ) : (
            <>
              <div class="table-scroll">
                <table class="grid candidates">
                  <thead>
                    <tr>
                      <th />
                      <th>Config</th>
                      {COLUMNS.map((column) => (
                        <SortHeader key={column.title} column={column} order={order} onSort={sortBy} />
                      ))}
                      <th title="1 = on the Pareto front">Pareto rank</th>
                    </tr>
                  </thead>
                  <tbody>
                    {candidates.edges.map(({ node }) => (
                      <tr key={node.id} data-candidate={node.id}>
                        <td>
                          <input type="checkbox" aria-label={`select ${shortHash(node.configHash)}`} checked={selected.includes(node.id)} onChange={() => toggle(node.id)} />
                        </td>
                        <td class="mono" title={node.configHash}>
                          {shortHash(node.configHash)}
                        </td>
                        {COLUMNS.map((column) => (
                          <td key={column.title} class={column.numeric ? 'num' : ''}>
                            {column.cell(node)}
                          </td>
                        ))}
                        <td class="num">{ranking ? (ranking.ranks.get(node.id) ?? '—') : points.state.status === 'error' ? '—' : '…'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager">
                <button disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
                  ← Previous
                </button>
                <span>
                  {(cursors.length - 1) * PAGE_SIZE + 1}–{(cursors.length - 1) * PAGE_SIZE + candidates.edges.length} of {candidates.totalCount}
                </span>
                <button disabled={!candidates.pageInfo.hasNextPage} onClick={() => setCursors([...cursors, candidates.pageInfo.endCursor])}>
                  Next →
                </button>
              </nav>
            </>
          )
        }
      />
    </section>
  );
}

function SortHeader({ column, order, onSort }: { column: Column; order: Order; onSort: (field: CandidateOrderField) => void }) {
  const { sort } = column;
  if (!sort) return <th title={column.explained}>{column.title}</th>;
  const active = order.field === sort;
  return (
    <th class="sortable" title={column.explained} aria-sort={active ? (order.direction === 'ASC' ? 'ascending' : 'descending') : 'none'}>
      <button class="link" onClick={() => onSort(sort)}>
        {column.title} {active ? (order.direction === 'ASC' ? '▲' : '▼') : ''}
      </button>
    </th>
  );
}

interface TrajectoryOption {
  readonly id: string;
  readonly label: string;
}

function FilterBar({ spaceId, filter, onChange }: { spaceId: string; filter: Filter; onChange: (change: Partial<Filter>) => void }) {
  const [budget, setBudget] = useState(filter.maxMacs == null ? '' : String(filter.maxMacs / 1e6));
  const [budgetError, setBudgetError] = useState<string | null>(null);
  const supernets = useQuery<{ supernets: { name: string; trajectories: { id: string; constraint: string; targets: number[] }[] }[] }>(
    TRAJECTORIES_QUERY,
    { spaceId },
  );
  const trajectories: TrajectoryOption[] =
    supernets.state.status === 'ready'
      ? supernets.state.data.supernets.flatMap((s) =>
          s.trajectories.map((t, i) => ({ id: t.id, label: `${s.name} #${i + 1}: ${t.constraint} ≤ ${t.targets.map(compact).join(' / ')}` })),
        )
      : [];

  const applyBudget = (event: Event) => {
    event.preventDefault();
    const text = budget.trim();
    if (text === '') {
      setBudgetError(null);
      return onChange({ maxMacs: null });
    }
    const millions = Number(text);
    if (!Number.isFinite(millions) || millions <= 0) return setBudgetError('The budget must be a positive number of millions of MACs.');
    setBudgetError(null);
    onChange({ maxMacs: millions * 1e6 });
  };

  return (
    <form class="filters" onSubmit={applyBudget}>
      <label>
        Max MACs (M)
        <input name="maxMacs" inputMode="decimal" placeholder="any" value={budget} onInput={(e) => setBudget(e.currentTarget.value)} />
      </label>
      <button type="submit">Apply budget</button>
      <label>
        Source
        <select value={filter.source ?? ''} onChange={(e) => onChange({ source: (e.currentTarget.value || null) as CandidateSource | null })}>
          <option value="">all</option>
          {(Object.keys(SOURCE_LABEL) as CandidateSource[]).map((s) => (
            <option key={s} value={s}>
              {SOURCE_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Trajectory (constraint)
        <select value={filter.trajectoryId ?? ''} onChange={(e) => onChange({ trajectoryId: e.currentTarget.value || null })}>
          <option value="">all</option>
          {trajectories.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      {budgetError && <ErrorBox message={budgetError} />}
    </form>
  );
}
