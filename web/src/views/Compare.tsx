import type { CandidateSource, ChannelUnit } from '../api/types';
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
                          {shortHash(node.configHash)} · {node.source.toLowerCase()} · {compact(node.macs)} MACs
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

function Pair({ a, b, units, spaceId }: { a: string; b: string; units: ChannelUnit[]; spaceId: string }) {
  const pair = useQuery<{ a: Side; b: Side }>(PAIR_QUERY, { a, b });
  const unitAt = new Map(units.flatMap((u) => u.members.map((position) => [position, u] as const)));
  return (
    <Await
      state={pair.state}
      what="the two candidates"
      ready={({ a: left, b: right }) => {
        if (left.searchSpace.id !== spaceId || right.searchSpace.id !== spaceId) {
          return <Empty>Both candidates must belong to the selected search space.</Empty>;
        }
        return (
          <table class="grid compare-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Unit</th>
                <th>Layers</th>
                <th class="num">A {shortHash(left.configHash)}</th>
                <th class="num">B {shortHash(right.configHash)}</th>
                <th class="num">B − A</th>
              </tr>
            </thead>
            <tbody>
              <tr class="summary">
                <td colSpan={3}>MACs · params · search acc. · retrained top-1</td>
                <td class="num">{summary(left)}</td>
                <td class="num">{summary(right)}</td>
                <td />
              </tr>
              {left.channels.map((width, position) => {
                const other = right.channels[position]!;
                const unit = unitAt.get(position);
                const delta = other - width;
                return (
                  <tr key={position}>
                    <td>{position}</td>
                    <td>{unit?.name ?? 'fixed'}</td>
                    <td class="layers">{unit?.layers.join(', ') ?? ''}</td>
                    <td class="num">{width}</td>
                    <td class="num">{other}</td>
                    <td class={`num ${delta > 0 ? 'wider' : delta < 0 ? 'narrower' : ''}`}>{delta === 0 ? '' : delta > 0 ? `+${delta}` : delta}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        );
      }}
    />
  );
}

function summary(side: Side): string {
  return `${compact(side.macs)} · ${compact(side.params)} · ${percent(side.searchAccuracy)} · ${percent(side.retrainedTop1Mean)}`;
}
