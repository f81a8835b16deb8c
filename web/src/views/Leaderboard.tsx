import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { loadAllPoints } from '../api/points';
import type { CandidateOrderField, CandidatePage, CandidateRow, CandidateSource, Job, SortDirection } from '../api/types';
import { PredictedLatency, VALIDATION_FIELDS } from '../components/LatencyValidation';
import { Await, ErrorBox, Empty } from '../components/Status';
import { compact, milliseconds, percent, shortHash, shortId } from '../format';
import { useLoad, useQuery, useSubscription } from '../hooks';
import { BASIS_LABEL, defaultBasis, paretoRanks, parseBasis, scoredPoints } from '../pareto';
import { navigate } from '../route';
import { BN_MODE_LABEL } from '../study';
import { accuracyInterval, differenceInterval, VERDICT_LABEL, verdictExplanation, widthLabel } from '../trust';
import { BudgetResults } from './BudgetResults';
import { CandidateActions, type CandidateAction } from './CandidateActions';
import { BasisPicker } from './Pareto';

const PAGE_SIZE = 50;

const PAGE_QUERY = `query Leaderboard($filter: CandidateFilter!, $orderBy: CandidateOrder!, $first: Int!, $after: String) {
  candidates(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id configHash source macs params predictedLatencyMs predictedLatencyTable { ${VALIDATION_FIELDS} } measuredLatencyMs searchAccuracy trajectory { bnMode }
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

/** What a row shows beyond the page's own fields: figures read from every candidate of the space. */
interface RowExtras {
  /** Test top-1 of the latest exported file; undefined while those are loading. */
  readonly exportedTop1: number | null | undefined;
}

interface Column {
  readonly title: string;
  /** Which split and which weights an accuracy column is: shown under its title. */
  readonly basis?: string;
  /** What the column means, for the header's tooltip. */
  readonly explained?: string;
  /** The server-side sort key; columns without one are not sortable. */
  readonly sort?: CandidateOrderField;
  readonly numeric?: boolean;
  readonly cell: (row: CandidateRow, extras: RowExtras) => ComponentChildren;
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
  {
    title: 'Search acc.',
    basis: 'search hold-out · supernet weights',
    explained: "Top-1 on the search hold-out split with the supernet's weights, as slimming scored it, under the trajectory's BN mode",
    sort: 'SEARCH_ACCURACY',
    numeric: true,
    cell: (r) =>
      r.searchAccuracy == null ? '—' : (
        <>
          {percent(r.searchAccuracy)}
          {r.trajectory && <span class="sub">{BN_MODE_LABEL[r.trajectory.bnMode]}</span>}
        </>
      ),
  },
  {
    title: 'Inherited top-1',
    basis: 'test · supernet weights',
    explained: 'Test top-1 of the weights sliced from the supernet, with batch norm recalibrated, before any training',
    numeric: true,
    cell: (r) => percent(r.inheritedTop1),
  },
  {
    title: 'Fine-tuned top-1',
    basis: 'test · fine-tuned from supernet',
    explained: `Test top-1 after training from the supernet's weights: ${OVER_SEEDS}`,
    numeric: true,
    cell: (r) => accuracyInterval(r.fineTunedTop1),
  },
  {
    title: 'Retrained top-1',
    basis: 'test · retrained from scratch',
    explained: `Test top-1 after training from scratch: ${OVER_SEEDS}`,
    sort: 'RETRAINED_TOP1',
    numeric: true,
    cell: (r) => accuracyInterval(r.retrainedTop1),
  },
  {
    title: 'Exported top-1',
    basis: 'test · exported ONNX file',
    explained: 'Test top-1 of the latest exported ONNX file of the candidate, measured by the export',
    numeric: true,
    cell: (_, extras) => (extras.exportedTop1 === undefined ? '…' : percent(extras.exportedTop1)),
  },
  {
    title: 'vs uniform width',
    basis: 'test · retrained from scratch',
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

interface Props {
  readonly projectId: string;
  readonly spaceId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function Leaderboard({ projectId, spaceId, params }: Props) {
  const [order, setOrder] = useState<Order>({ field: 'MACS', direction: 'ASC' });
  const [filter, setFilter] = useState<Filter>({ maxMacs: null, source: null, trajectoryId: null });
  // Cursors of the pages before this one: keyset pagination can only go forward, so going back pops.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<string[]>([]);
  const [open, setOpen] = useState<{ id: string; action: CandidateAction } | null>(null);

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
  const points = useLoad(() => loadAllPoints(projectId, spaceId), rankingStarted ? spaceId : null);
  useSubscription<{ jobUpdated: Pick<Job, 'id' | 'state'> }>(JOB_DONE, { projectId }, ({ jobUpdated }) => {
    if (jobUpdated.state !== 'SUCCEEDED') return;
    page.reload();
    points.reload();
  });

  const ranking = useMemo(() => {
    if (points.state.status !== 'ready') return null;
    const data = points.state.data;
    const basis = parseBasis(params.accuracy) ?? defaultBasis(data);
    return { data, basis, ranks: paretoRanks(scoredPoints(data, basis)), exported: new Map(data.map((p) => [p.id, p.exportedTop1])) };
  }, [points.state, params.accuracy]);
  const act = (id: string, action: CandidateAction) => setOpen(open?.id === id && open.action === action ? null : { id, action });

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
      <BudgetResults projectId={projectId} spaceId={spaceId} />
      <FilterBar spaceId={spaceId} filter={filter} onChange={refilter} />
      <div class="toolbar">
        <button
          disabled={selected.length !== 2}
          onClick={() => navigate('compare', { project: projectId, space: spaceId, a: selected[0], b: selected[1] })}
        >
          Compare selected ({selected.length}/2)
        </button>
        {ranking && (
          <>
            <BasisPicker points={ranking.data} basis={ranking.basis} onChange={(accuracy) => navigate('leaderboard', { ...params, accuracy })} />
            <span class="hint rank-basis">
              Pareto rank over MACs vs {BASIS_LABEL[ranking.basis]}, all candidates of this search space; — for those without it
            </span>
          </>
        )}
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
                      <th title="The first 8 characters of the candidate's id: the CLI and the API accept them">ID</th>
                      <th>Config</th>
                      <th>Actions</th>
                      {COLUMNS.map((column) => (
                        <SortHeader key={column.title} column={column} order={order} onSort={sortBy} />
                      ))}
                      <th title="1 = on the Pareto front">Pareto rank</th>
                    </tr>
                  </thead>
                  <tbody>
                    {candidates.edges.map(({ node }) => {
                      const extras: RowExtras = { exportedTop1: ranking ? (ranking.exported.get(node.id) ?? null) : undefined };
                      return (
                        <Fragment key={node.id}>
                          <tr data-candidate={node.id}>
                            <td>
                              <input type="checkbox" aria-label={`select ${shortId(node.id)}`} checked={selected.includes(node.id)} onChange={() => toggle(node.id)} />
                            </td>
                            <td class="mono id">
                              <code>{shortId(node.id)}</code> <CopyButton text={shortId(node.id)} />
                            </td>
                            <td class="mono" title={node.configHash}>
                              {shortHash(node.configHash)}
                            </td>
                            <td class="row-actions">
                              {(['export', 'retrain', 'runs'] as const).map((action) => (
                                <button key={action} class={open?.id === node.id && open.action === action ? 'active' : ''} onClick={() => act(node.id, action)}>
                                  {ACTION_LABEL[action]}
                                </button>
                              ))}
                            </td>
                            {COLUMNS.map((column) => (
                              <td key={column.title} class={column.numeric ? 'num' : ''}>
                                {column.cell(node, extras)}
                              </td>
                            ))}
                            <td class="num">{ranking ? (ranking.ranks.get(node.id) ?? '—') : points.state.status === 'error' ? '—' : '…'}</td>
                          </tr>
                          {open?.id === node.id && (
                            <tr class="actions-row">
                              <td colSpan={COLUMNS.length + 5}>
                                <CandidateActions key={open.action} action={open.action} candidateId={node.id} projectId={projectId} spaceId={spaceId} />
                              </td>
                            </tr>
                          )}
                        </Fragment>
                      );
                    })}
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

const ACTION_LABEL: Record<CandidateAction, string> = { export: 'Export', retrain: 'Retrain', runs: 'Runs' };

/** Copies a short id for pasting into the CLI; says so for a moment. */
function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  useEffect(() => {
    if (!copied) return;
    const reset = setTimeout(() => setCopied(null), 1500);
    return () => clearTimeout(reset);
  }, [copied]);
  return (
    <button class="copy" title={`Copy ${text}`} aria-label={`copy id ${text}`} onClick={copy}>
      {copied === 'yes' ? 'copied' : copied === 'failed' ? 'copy failed' : 'copy'}
    </button>
  );
}

function SortHeader({ column, order, onSort }: { column: Column; order: Order; onSort: (field: CandidateOrderField) => void }) {
  const { sort } = column;
  const basis = column.basis && <span class="basis">{column.basis}</span>;
  if (!sort) {
    return (
      <th title={column.explained}>
        {column.title}
        {basis}
      </th>
    );
  }
  const active = order.field === sort;
  return (
    <th class="sortable" title={column.explained} aria-sort={active ? (order.direction === 'ASC' ? 'ascending' : 'descending') : 'none'}>
      <button class="link" onClick={() => onSort(sort)}>
        {column.title} {active ? (order.direction === 'ASC' ? '▲' : '▼') : ''}
      </button>
      {basis}
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
