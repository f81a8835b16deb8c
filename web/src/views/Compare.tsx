import { useMemo } from 'preact/hooks';
import type { CandidateSource, ChannelUnit } from '../api/types';
import { Chart } from '../components/Chart';
import { unitWidthChart, widthsOf } from '../unitWidths';
import { Await, Empty } from '../components/Status';
import { compact, percent, shortHash } from '../format';
import { useQuery } from '../hooks';
import { navigate } from '../route';

const OPTIONS_QUERY = `query CompareOptions($spaceId: ID!) {
  searchSpace(id: $spaceId) { units { index name max members layers } }
  candidates(filter: { searchSpaceId: $spaceId }, first: 500) { edges { node { id configHash source macs } } }
}`;

const PAIR_QUERY = `query ComparePair($a: ID!, $b: ID!) {
  a: candidate(id: $a) { ...side }
  b: candidate(id: $b) { ...side }
}
fragment side on Candidate { id configHash source macs params channels searchAccuracy retrainedTop1Mean searchSpace { id } }`;

interface Side {
  id: string;
  configHash: string;
  source: CandidateSource;
  macs: number;
  params: number;
  channels: number[];
  searchAccuracy: number | null;
  retrainedTop1Mean: number | null;
  searchSpace: { id: string };
}

interface Option {
  id: string;
  configHash: string;
  source: CandidateSource;
  macs: number;
}

interface Props {
  readonly spaceId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function Compare({ spaceId, params }: Props) {
  const options = useQuery<{ searchSpace: { units: ChannelUnit[] }; candidates: { edges: { node: Option }[] } }>(OPTIONS_QUERY, { spaceId });
  const choose = (side: 'a' | 'b', id: string) => navigate('compare', { ...params, [side]: id || null });
  return (
    <section class="view compare">
      <h2>Compare two candidates</h2>
      <Await
        state={options.state}
        what="candidates"
        ready={({ searchSpace, candidates }) =>
          candidates.edges.length < 2 ? (
            <Empty>
              <p>This search space needs at least two candidates to compare.</p>
            </Empty>
          ) : (
            <>
              <div class="filters">
                {(['a', 'b'] as const).map((side) => (
                  <label key={side}>
                    Candidate {side.toUpperCase()}
                    <select name={side} value={params[side] ?? ''} onChange={(e) => choose(side, e.currentTarget.value)}>
                      <option value="">choose…</option>
                      {candidates.edges.map(({ node }) => (
                        <option key={node.id} value={node.id}>
                          {node.id.slice(0, 8)} · {shortHash(node.configHash)} · {node.source.toLowerCase()} · {compact(node.macs)} MACs
                        </option>
                      ))}
                    </select>
                  </label>
                ))}
              </div>
              {params.a && params.b ? (
                <Pair a={params.a} b={params.b} units={searchSpace.units} spaceId={spaceId} />
              ) : (
                <Empty>
                  <p>Pick two candidates, here or with the checkboxes of the leaderboard.</p>
                </Empty>
              )}
            </>
          )
        }
      />
    </section>
  );
}

/** A candidate's short name on this page: the id prefix the CLI and the API accept. */
const shortId = (id: string) => id.slice(0, 8);

/** One figure of both candidates, and how B differs from A. */
interface Metric {
  readonly key: 'macs' | 'params' | 'searchAccuracy' | 'retrainedTop1Mean';
  readonly label: string;
  readonly show: (value: number) => string;
  readonly difference: (a: number, b: number) => string;
}

const sign = (value: number) => (value > 0 ? '+' : value < 0 ? '−' : '±');

/** Costs differ by an amount and a share of A's; accuracies by percentage points. */
const costDifference = (a: number, b: number) => `${sign(b - a)}${compact(Math.abs(b - a))} (${sign(b - a)}${((Math.abs(b - a) / a) * 100).toFixed(1)}%)`;
const accuracyDifference = (a: number, b: number) => `${sign(b - a)}${(Math.abs(b - a) * 100).toFixed(2)} pts`;

const METRICS: readonly Metric[] = [
  { key: 'macs', label: 'MACs', show: compact, difference: costDifference },
  { key: 'params', label: 'Params', show: compact, difference: costDifference },
  { key: 'searchAccuracy', label: 'Search accuracy (hold-out)', show: percent, difference: accuracyDifference },
  { key: 'retrainedTop1Mean', label: 'Retrained top-1 (test, mean over seeds)', show: percent, difference: accuracyDifference },
];

function Pair({ a, b, units, spaceId }: { a: string; b: string; units: ChannelUnit[]; spaceId: string }) {
  const pair = useQuery<{ a: Side; b: Side }>(PAIR_QUERY, { a, b });
  return (
    <Await
      state={pair.state}
      what="the two candidates"
      ready={({ a: left, b: right }) => {
        if (left.searchSpace.id !== spaceId || right.searchSpace.id !== spaceId) {
          return <Empty>Both candidates must belong to the selected search space.</Empty>;
        }
        // A unit couples every layer whose output width it sets (the projections a residual adds up
        // share one): one row per unit, its width read at its first member.
        const covered = new Set(units.flatMap((u) => u.members));
        const fixed = left.channels.length - covered.size;
        return (
          <>
            <WidthBars units={units} left={left} right={right} />
            <table class="grid compare-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Unit</th>
                  <th>Layers</th>
                  <th class="num">
                    A {shortId(left.id)} <span class="hint">{shortHash(left.configHash)}</span>
                  </th>
                  <th class="num">
                    B {shortId(right.id)} <span class="hint">{shortHash(right.configHash)}</span>
                  </th>
                  <th class="num">B − A</th>
                </tr>
              </thead>
              <tbody>
                {METRICS.map((metric) => {
                  const x = left[metric.key];
                  const y = right[metric.key];
                  return (
                    <tr key={metric.key} class="summary" data-metric={metric.key}>
                      <td colSpan={3}>{metric.label}</td>
                      <td class="num">{x === null ? '—' : metric.show(x)}</td>
                      <td class="num">{y === null ? '—' : metric.show(y)}</td>
                      <td class={`num delta ${x !== null && y !== null ? (y > x ? 'wider' : y < x ? 'narrower' : '') : ''}`}>
                        {x === null || y === null ? '—' : metric.difference(x, y)}
                      </td>
                    </tr>
                  );
                })}
                {units.map((unit) => {
                  const width = left.channels[unit.members[0]!]!;
                  const other = right.channels[unit.members[0]!]!;
                  const delta = other - width;
                  return (
                    <tr key={unit.index} class="unit">
                      <td>{unit.index}</td>
                      <td class="unit-name">{unit.name}</td>
                      <td class="layers">{unit.layers.join(', ')}</td>
                      <td class="num">{width}</td>
                      <td class="num">{other}</td>
                      <td class={`num delta ${delta > 0 ? 'wider' : delta < 0 ? 'narrower' : ''}`}>{delta === 0 ? '' : delta > 0 ? `+${delta}` : delta}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {fixed > 0 && <p class="hint">{fixed} layer output(s) outside every unit (e.g. the classifier's) are fixed, the same in both, and not listed.</p>}
          </>
        );
      }}
    />
  );
}

function WidthBars({ units, left, right }: { units: ChannelUnit[]; left: Side; right: Side }) {
  const option = useMemo(
    () =>
      unitWidthChart(units, [
        { name: `A ${shortId(left.id)}`, widths: widthsOf(units, left.channels), color: '#2563eb' },
        { name: `B ${shortId(right.id)}`, widths: widthsOf(units, right.channels), color: '#f59e0b' },
      ]),
    [units, left, right],
  );
  return <Chart option={option} height={300} label={`channels per unit, A ${shortId(left.id)} against B ${shortId(right.id)}`} />;
}
