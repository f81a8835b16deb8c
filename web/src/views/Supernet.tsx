import { useMemo } from 'preact/hooks';
import type { MetricSeries, RankCorrelation } from '../api/types';
import { Chart, type ChartOption } from '../components/Chart';
import { Await, Empty, LiveBadge } from '../components/Status';
import { dateOf, timeOf } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { navigate, routeHref } from '../route';
import { BN_MODE_LABEL, progressText, studyProgress, type ProgressOf } from '../study';
import { tauText } from '../trust';

/** The server downsamples each curve to this many points; live points are appended on top. */
const MAX_POINTS = 500;

const LIST_QUERY = `query SupernetList($projectId: ID!) {
  supernets(filter: { projectId: $projectId }) { id name searchSpace { name } dataset { name } }
}`;

const DETAIL_QUERY = `query Supernet($id: ID!) {
  supernet(id: $id) {
    id name recipe checkpoint { id } run { id status backend startedAt finishedAt }
    rankingStudies {
      id createdAt complete seeds
      configs { scores { bnMode } retrainedTop1 { n } }
      correlations { bnMode configs kendallTau { ...interval } spearmanRho { ...interval } }
    }
  }
}
fragment interval on Interval { estimate low high n confidence }`;

const HISTORY_QUERY = `query RunHistory($runId: ID!, $maxPoints: Int!) {
  runHistory(runId: $runId, maxPoints: $maxPoints) { key totalPoints points { step value } }
}`;

const PROGRESS = `subscription TrainingProgress($runId: ID!) { trainingProgress(runId: $runId) { points { name step value } } }`;

interface SupernetDetail {
  id: string;
  name: string;
  recipe: Record<string, unknown>;
  checkpoint: { id: string } | null;
  run: { id: string; status: string; backend: string | null; startedAt: string | null; finishedAt: string | null };
  rankingStudies: StudySummary[];
}

interface StudySummary {
  id: string;
  createdAt: string;
  complete: boolean;
  seeds: number[];
  configs: ProgressOf[];
  correlations: RankCorrelation[];
}

interface Props {
  readonly projectId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function Supernet({ projectId, params }: Props) {
  const list = useQuery<{ supernets: { id: string; name: string; searchSpace: { name: string }; dataset: { name: string } }[] }>(LIST_QUERY, { projectId });
  return (
    <section class="view supernet">
      <h2>Supernet training</h2>
      <Await
        state={list.state}
        what="supernets"
        ready={({ supernets }) => {
          if (supernets.length === 0) {
            return (
              <Empty>
                <p>No supernet in this project yet.</p>
                <p>Train one with the trainSupernet mutation or `slimlab run pipeline.yaml`.</p>
              </Empty>
            );
          }
          const chosen = supernets.find((s) => s.id === params.supernet) ?? supernets.at(-1)!;
          return (
            <>
              <label class="picker">
                Supernet
                <select value={chosen.id} onChange={(e) => navigate('supernet', { ...params, supernet: e.currentTarget.value })}>
                  {supernets.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} — {s.searchSpace.name} on {s.dataset.name}
                    </option>
                  ))}
                </select>
              </label>
              <SupernetDetailView key={chosen.id} id={chosen.id} projectId={projectId} />
            </>
          );
        }}
      />
    </section>
  );
}

function SupernetDetailView({ id, projectId }: { id: string; projectId: string }) {
  const detail = useQuery<{ supernet: SupernetDetail }>(DETAIL_QUERY, { id });
  return (
    <Await
      state={detail.state}
      what="the supernet"
      ready={({ supernet }) => (
        <>
          <p class="hint">
            Run <span class="run-status">{supernet.run.status.toLowerCase()}</span> · backend {supernet.run.backend ?? 'not recorded yet'} · started{' '}
            {timeOf(supernet.run.startedAt)} · finished {timeOf(supernet.run.finishedAt)} · checkpoint {supernet.checkpoint ? 'saved' : 'none yet'}
          </p>
          <details>
            <summary>Recipe</summary>
            <pre>{JSON.stringify(supernet.recipe, null, 2)}</pre>
          </details>
          <Curves runId={supernet.run.id} />
          <RankingStudies studies={supernet.rankingStudies} projectId={projectId} />
        </>
      )}
    />
  );
}

function Curves({ runId }: { runId: string }) {
  const history = useQuery<{ runHistory: MetricSeries[] }>(HISTORY_QUERY, { runId, maxPoints: MAX_POINTS });
  const live = useSubscription<{ trainingProgress: { points: { name: string; step: number; value: number }[] } }>(
    PROGRESS,
    { runId },
    ({ trainingProgress }) => {
      history.update(({ runHistory }) => ({ runHistory: appendPoints(runHistory, trainingProgress.points) }));
      // Appended points are not downsampled: past twice the budget, ask the server again.
      if (history.state.status === 'ready' && history.state.data.runHistory.some((s) => s.points.length > 2 * MAX_POINTS)) history.reload();
    },
  );
  return (
    <Await
      state={history.state}
      what="training curves"
      ready={({ runHistory }) => (
        <>
          <p class="hint">
            <LiveBadge error={live} />
          </p>
          {runHistory.length === 0 ? (
            <Empty>
              <p>No metric reported yet. Curves appear live as the trainer reports them.</p>
            </Empty>
          ) : (
            <div class="curves">
              {[...runHistory]
                .sort((a, b) => a.key.localeCompare(b.key))
                .map((series) => (
                  <MetricChart key={series.key} series={series} />
                ))}
            </div>
          )}
        </>
      )}
    />
  );
}

/** How well the supernet ranks configurations: each study opens its ranking view. */
function RankingStudies({ studies, projectId }: { studies: StudySummary[]; projectId: string }) {
  return (
    <section class="ranking-studies">
      <h3>Ranking studies</h3>
      {studies.length === 0 ? (
        <p class="hint">
          None yet. A ranking study scores configurations spread over cost with this supernet and retrains each from scratch, to measure how well the
          supernet's scores predict retrained accuracy (Kendall τ).
        </p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Study</th>
              <th>Started</th>
              <th>Progress</th>
              <th title="Kendall τ between supernet accuracy and retrained top-1, with its 95% bootstrap interval">τ by BN mode</th>
            </tr>
          </thead>
          <tbody>
            {studies.map((study) => (
              <tr key={study.id} data-study={study.id}>
                <td>
                  <a href={routeHref('study', { project: projectId, study: study.id })}>Ranking of {study.configs.length} configs</a>
                </td>
                <td>{dateOf(study.createdAt)}</td>
                <td>{study.complete ? 'complete' : progressText(studyProgress(study.configs, study.seeds), study.seeds.length)}</td>
                <td>
                  {study.correlations.length === 0
                    ? '—'
                    : study.correlations.map((c) => `${BN_MODE_LABEL[c.bnMode]}: ${tauText(c)}`).join(' · ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function appendPoints(series: MetricSeries[], points: { name: string; step: number; value: number }[]): MetricSeries[] {
  const byKey = new Map(series.map((s) => [s.key, { ...s, points: [...s.points] }]));
  for (const { name, step, value } of points) {
    const target = byKey.get(name) ?? { key: name, totalPoints: 0, points: [] };
    if (target.points.at(-1)?.step !== undefined && target.points.at(-1)!.step >= step) continue;
    target.points.push({ step, value });
    target.totalPoints += 1;
    byKey.set(name, target);
  }
  return [...byKey.values()];
}

function MetricChart({ series }: { series: MetricSeries }) {
  const option = useMemo(
    (): ChartOption => ({
      animation: false,
      title: { text: series.key, left: 'center', textStyle: { fontSize: 13 } },
      grid: { left: 60, right: 20, top: 35, bottom: 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25, scale: true },
      yAxis: { type: 'value', scale: true },
      series: [{ type: 'line', name: series.key, showSymbol: false, data: series.points.map((p) => [p.step, p.value]) }],
    }),
    [series],
  );
  const last = series.points.at(-1);
  return (
    <figure class="metric" data-metric={series.key}>
      <Chart option={option} height={240} label={`${series.key} by training step`} />
      <figcaption>
        {series.key}: {last ? `${last.value.toPrecision(4)} at step ${last.step}` : '—'} · {series.totalPoints} points stored
      </figcaption>
    </figure>
  );
}
