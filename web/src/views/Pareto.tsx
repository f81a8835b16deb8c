import { useMemo } from 'preact/hooks';
import { loadAllPoints, type CandidatePoint } from '../api/points';
import type { Job } from '../api/types';
import { Chart, errorBarSeries } from '../components/Chart';
import { Await, Empty } from '../components/Status';
import { compact, percent, shortId } from '../format';
import { useLoad, useSubscription } from '../hooks';
import {
  accuracyOf,
  ACCURACY_BASES,
  basisCoverage,
  BASIS_LABEL,
  BASIS_MEANING,
  defaultBasis,
  parseBasis,
  scoredPoints,
  type AccuracyBasis,
} from '../pareto';
import { MARKS, paretoChart } from '../paretoChart';
import { navigate } from '../route';
import { BN_MODE_LABEL } from '../study';

const JOB_DONE = `subscription ParetoJobs($projectId: ID!) { jobUpdated(projectId: $projectId) { id state } }`;

/** How a candidate comes to have each accuracy: said when none has the one chosen. */
const HOW_TO_GET: Record<AccuracyBasis, string> = {
  search: 'Slimming scores the candidates it picks; uniform, imported and sampled candidates have no search accuracy.',
  retrained: 'Retrain a candidate from the leaderboard (Retrain) or with the retrainCandidate mutation.',
  exported: 'Export a candidate from the leaderboard (Export): the export measures its file on the test split.',
  inherited: 'Slimming measures it for the candidates it picks, with the weights sliced from the supernet.',
};

interface Props {
  readonly projectId: string;
  readonly spaceId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function Pareto({ projectId, spaceId, params }: Props) {
  const points = useLoad(() => loadAllPoints(projectId, spaceId), spaceId);
  // A finished retraining or export changes what there is to plot.
  useSubscription<{ jobUpdated: Pick<Job, 'id' | 'state'> }>(JOB_DONE, { projectId }, ({ jobUpdated }) => {
    if (jobUpdated.state === 'SUCCEEDED') points.reload();
  });
  return (
    <section class="view pareto">
      <h2>Pareto plot</h2>
      <Await
        state={points.state}
        what="candidates"
        ready={(data) => {
          if (data.length === 0) {
            return (
              <Empty>
                <p>No candidate in this search space yet.</p>
                <p>Candidates appear when a slimming job crosses a target, or when uniform baselines are created or a channel list is imported.</p>
              </Empty>
            );
          }
          const basis = parseBasis(params.accuracy) ?? defaultBasis(data);
          const plotted = scoredPoints(data, basis).length;
          // Search accuracy is scored under its trajectory's BN mode: the plot says which.
          const modes = basis === 'search' ? [...new Set(data.flatMap((p) => (p.searchAccuracy != null && p.trajectory ? [BN_MODE_LABEL[p.trajectory.bnMode]] : [])))] : [];
          return (
            <>
              <BasisPicker points={data} basis={basis} onChange={(accuracy) => navigate('pareto', { ...params, accuracy })} />
              <p class="hint plotted">
                Plotted: <strong>{BASIS_LABEL[basis]}</strong> ({[BASIS_MEANING[basis], ...modes].join(', ')}) against MACs, for {plotted} of {data.length} candidates; the line is
                the Pareto front.
                {basis === 'retrained' && ' Bars span the 95% t-interval over retraining seeds; a candidate with one seed has none.'}
              </p>
              {plotted === 0 ? (
                <Empty>
                  <p>No candidate has {BASIS_LABEL[basis]} yet.</p>
                  <p>{HOW_TO_GET[basis]}</p>
                </Empty>
              ) : (
                <ParetoPlot points={data} basis={basis} />
              )}
              <Unplotted points={data} basis={basis} />
            </>
          );
        }}
      />
    </section>
  );
}

/** Which accuracy to plot, with how many candidates have each. */
export function BasisPicker({ points, basis, onChange }: { points: readonly CandidatePoint[]; basis: AccuracyBasis; onChange: (basis: AccuracyBasis) => void }) {
  const coverage = basisCoverage(points);
  return (
    <fieldset class="basis-picker">
      <legend>Accuracy</legend>
      {ACCURACY_BASES.map((b) => (
        <label key={b} title={BASIS_MEANING[b]}>
          <input type="radio" name="accuracy" value={b} checked={b === basis} onChange={() => onChange(b)} />
          {BASIS_LABEL[b]} ({coverage[b]} of {points.length})
        </label>
      ))}
    </fieldset>
  );
}

function ParetoPlot({ points, basis }: { points: readonly CandidatePoint[]; basis: AccuracyBasis }) {
  const chart = useMemo(() => paretoChart(points, basis, errorBarSeries), [points, basis]);
  const axis = `${percent(chart.bounds.min)} to ${percent(chart.bounds.max)}`;
  const bars = chart.barCount ? ` and error bars over seeds for ${chart.barCount} candidates` : '';
  return <Chart option={chart.option} height={460} label={`${BASIS_LABEL[basis]} (axis ${axis}) versus MACs, with the Pareto front${bars}`} />;
}

/** The candidates the plot cannot show, with the accuracies they do have: none is dropped silently. */
function Unplotted({ points, basis }: { points: readonly CandidatePoint[]; basis: AccuracyBasis }) {
  const missing = points.filter((p) => accuracyOf(p, basis) == null);
  if (missing.length === 0) return null;
  return (
    <section class="unplotted">
      <h3>
        Not plotted: {missing.length} {missing.length === 1 ? 'candidate has' : 'candidates have'} no {BASIS_LABEL[basis]}
      </h3>
      <table class="grid">
        <thead>
          <tr>
            <th>ID</th>
            <th>Source</th>
            <th class="num">MACs</th>
            <th>Accuracies it has</th>
          </tr>
        </thead>
        <tbody>
          {missing.map((p) => {
            const has = ACCURACY_BASES.filter((b) => accuracyOf(p, b) != null);
            return (
              <tr key={p.id} data-candidate={p.id}>
                <td class="mono">{shortId(p.id)}</td>
                <td>{MARKS[p.source].name}</td>
                <td class="num">{compact(p.macs)}</td>
                <td>{has.length === 0 ? 'none yet' : has.map((b) => `${BASIS_LABEL[b]} ${percent(accuracyOf(p, b))}`).join(' · ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
