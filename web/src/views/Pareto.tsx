import { useMemo } from 'preact/hooks';
import { loadAllPoints, type CandidatePoint } from '../api/points';
import type { CandidateSource } from '../api/types';
import { Chart, errorBarSeries, type ChartOption } from '../components/Chart';
import { Await, Empty } from '../components/Status';
import { intervalBars } from '../errorBars';
import { compact, percent, shortHash } from '../format';
import { useLoad } from '../hooks';
import { accuracyBasis, basisLabel, paretoFront, scoredPoints, type AccuracyBasis } from '../pareto';
import { accuracyInterval } from '../trust';

const MARKS: Record<CandidateSource, { name: string; symbol: string; color: string }> = {
  AUTOSLIM: { name: 'AutoSlim', symbol: 'circle', color: '#2563eb' },
  UNIFORM: { name: 'uniform width', symbol: 'triangle', color: '#ea580c' },
  IMPORTED: { name: 'imported', symbol: 'diamond', color: '#7c3aed' },
  SAMPLED: { name: 'sampled', symbol: 'rect', color: '#64748b' },
};

export function Pareto({ spaceId }: { spaceId: string }) {
  const points = useLoad(() => loadAllPoints(spaceId), spaceId);
  return (
    <section class="view pareto">
      <h2>Pareto plot</h2>
      <Await
        state={points.state}
        what="candidates"
        ready={(data) => {
          const basis = accuracyBasis(data);
          const plotted = scoredPoints(data, basis).length;
          return plotted === 0 ? (
            <Empty>
              <p>No candidate of this search space has an accuracy yet.</p>
              <p>Points appear once slimming scores candidates or retraining finishes.</p>
            </Empty>
          ) : (
            <>
              <p class="hint">
                {plotted} of {data.length} candidates, {basisLabel(basis)} vs MACs; the line is the Pareto front.
                {basis === 'retrained' && ' Bars span the 95% t-interval over retraining seeds (none with a single seed).'}
              </p>
              <ParetoChart points={data} basis={basis} />
            </>
          );
        }}
      />
    </section>
  );
}

function ParetoChart({ points, basis }: { points: readonly CandidatePoint[]; basis: AccuracyBasis }) {
  const { option, barCount } = useMemo((): { option: ChartOption; barCount: number } => {
    const byId = new Map(points.map((p) => [p.id, p]));
    const scored = scoredPoints(points, basis);
    const sources = Object.keys(MARKS) as CandidateSource[];
    const series = sources.map((source) => ({
      type: 'scatter',
      name: MARKS[source].name,
      symbol: MARKS[source].symbol,
      // Thousands of candidates stay legible (and fast) with small marks drawn in large mode.
      symbolSize: scored.length > 500 ? 5 : 10,
      large: scored.length > 2000,
      itemStyle: { color: MARKS[source].color },
      data: scored.filter((p) => byId.get(p.id)!.source === source).map((p) => ({ value: [p.cost, p.accuracy], id: p.id })),
    }));
    // Bars belong to retrained accuracies only: search accuracy is one evaluation, with no seeds.
    const barsBySource = sources.map((source) => ({
      source,
      bars: basis === 'retrained' ? intervalBars(points.filter((p) => p.source === source), (p) => p.macs, (p) => p.retrainedTop1) : [],
    }));
    const bars = barsBySource.map(({ source, bars }) => errorBarSeries({ name: MARKS[source].name, color: MARKS[source].color, bars }));
    const front = paretoFront(scored).map((p) => [p.cost, p.accuracy]);
    const option = {
      animation: false,
      legend: { top: 0 },
      grid: { left: 70, right: 30, top: 40, bottom: 50 },
      tooltip: {
        trigger: 'item',
        formatter: (item: { seriesName: string; data: { id?: string; value: number[] } | number[] }) => {
          const value = Array.isArray(item.data) ? item.data : item.data.value;
          const point = Array.isArray(item.data) ? undefined : byId.get(item.data.id ?? '');
          const accuracy = point && basis === 'retrained' ? accuracyInterval(point.retrainedTop1) : percent(value[1]);
          return `${item.seriesName}${point ? ` ${shortHash(point.configHash)}` : ''}<br>${compact(value[0]!)} MACs, ${accuracy}`;
        },
      },
      xAxis: { type: 'value', name: 'MACs', nameLocation: 'middle', nameGap: 30, scale: true, axisLabel: { formatter: compact } },
      yAxis: {
        type: 'value',
        name: basis === 'retrained' ? 'retrained top-1' : 'search accuracy',
        scale: true,
        axisLabel: { formatter: (v: number) => percent(v) },
      },
      // The scatter series come first, so that the legend shows their marks rather than the bars'.
      series: [...series, ...bars, { type: 'line', name: 'Pareto front', step: 'end', data: front, symbol: 'none', lineStyle: { color: '#16a34a', width: 2 } }],
    };
    return { option, barCount: barsBySource.reduce((sum, s) => sum + s.bars.length, 0) };
  }, [points, basis]);
  const label = `accuracy versus MACs of every candidate, with the Pareto front${barCount ? ` and error bars over seeds for ${barCount} candidates` : ''}`;
  return <Chart option={option} height={460} label={label} />;
}
