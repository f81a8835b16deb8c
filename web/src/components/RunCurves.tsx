import { useMemo } from 'preact/hooks';
import type { MetricSeries } from '../api/types';
import { useQuery, useSubscription } from '../hooks';
import { metricCharts, metricValue, type MetricChartSpec } from '../metrics';
import { Chart, type ChartOption } from './Chart';
import { Await, Empty, LiveBadge } from './Status';

/** The server downsamples each curve to this many points; live points are appended on top. */
const MAX_POINTS = 500;

const HISTORY_QUERY = `query RunHistory($runId: ID!, $maxPoints: Int!) {
  runHistory(runId: $runId, maxPoints: $maxPoints) { key totalPoints points { step value } }
}`;

const PROGRESS = `subscription TrainingProgress($runId: ID!) { trainingProgress(runId: $runId) { points { name step value } } }`;

type Point = { name: string; step: number; value: number };

/**
 * A training run's curves. Only a run still going follows the live stream and says "live"; a
 * finished one shows what it recorded, and says nothing it cannot keep.
 */
export function RunCurves({ runId, running }: { runId: string; running: boolean }) {
  const history = useQuery<{ runHistory: MetricSeries[] }>(HISTORY_QUERY, { runId, maxPoints: MAX_POINTS });
  const append = (points: Point[]) => {
    history.update(({ runHistory }) => ({ runHistory: appendPoints(runHistory, points) }));
    // Appended points are not downsampled: past twice the budget, ask the server again.
    if (history.state.status === 'ready' && history.state.data.runHistory.some((s) => s.points.length > 2 * MAX_POINTS)) history.reload();
  };
  return (
    <Await
      state={history.state}
      what="training curves"
      ready={({ runHistory }) => (
        <>
          {running && <LiveCurves runId={runId} onPoints={append} />}
          {runHistory.length === 0 ? (
            <Empty>
              <p>{running ? 'No metric reported yet. Curves appear live as the trainer reports them.' : 'This run recorded no metric.'}</p>
            </Empty>
          ) : (
            <div class="curves">
              {metricCharts(runHistory.map((s) => s.key)).map((spec) => (
                <MetricChart key={spec.family} spec={spec} series={runHistory} />
              ))}
            </div>
          )}
        </>
      )}
    />
  );
}

function LiveCurves({ runId, onPoints }: { runId: string; onPoints: (points: Point[]) => void }) {
  const error = useSubscription<{ trainingProgress: { points: Point[] } }>(PROGRESS, { runId }, ({ trainingProgress }) => onPoints(trainingProgress.points));
  return (
    <p class="hint">
      <LiveBadge error={error} />
    </p>
  );
}

function appendPoints(series: MetricSeries[], points: Point[]): MetricSeries[] {
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

function MetricChart({ spec, series }: { spec: MetricChartSpec; series: MetricSeries[] }) {
  const lines = spec.lines.map((line) => ({ line, data: series.find((s) => s.key === line.key)! }));
  const option = useMemo(
    (): ChartOption => ({
      animation: false,
      title: { text: spec.title, left: 'center', textStyle: { fontSize: 13 } },
      legend: lines.length > 1 ? { bottom: 0 } : undefined,
      grid: { left: 60, right: 20, top: 35, bottom: lines.length > 1 ? 60 : 40 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => metricValue(v, spec.percent) },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25, scale: true },
      yAxis: { type: 'value', scale: true, axisLabel: spec.percent ? { formatter: (v: number) => `${Math.round(v * 1000) / 10}%` } : {} },
      series: lines.map(({ line, data }) => ({ type: 'line', name: line.label, showSymbol: false, data: data.points.map((p) => [p.step, p.value]) })),
    }),
    [spec, series],
  );
  return (
    <figure class="metric" data-metric={spec.family}>
      <Chart option={option} height={lines.length > 1 ? 260 : 240} label={`${spec.title} by training step${lines.length > 1 ? `: ${lines.map((l) => l.line.label).join(' and ')}` : ''}`} />
      <figcaption>
        {lines.map(({ line, data }) => {
          const last = data.points.at(-1);
          const name = lines.length > 1 ? `${spec.title}, ${line.label}` : spec.title;
          return (
            <span key={line.key} class="metric-last" data-key={line.key}>
              {name}: {last ? `${metricValue(last.value, spec.percent)} at step ${last.step}` : '—'} · {data.totalPoints} points stored
            </span>
          );
        })}
      </figcaption>
    </figure>
  );
}
