/** The Pareto plot's ECharts option, built without ECharts so that what it promises can be tested. */
import type { CandidateSource, Interval } from './api/types';
import { intervalBars, type Bar } from './errorBars';
import { compact, percent, shortId } from './format';
import { accuracyAxisBounds, accuracyOf, BASIS_LABEL, paretoFront, scoredPoints, type AccuracyBasis, type AccuracySource } from './pareto';
import { accuracyInterval } from './trust';

export const MARKS: Record<CandidateSource, { name: string; symbol: string; color: string }> = {
  AUTOSLIM: { name: 'AutoSlim', symbol: 'circle', color: '#2563eb' },
  UNIFORM: { name: 'uniform width', symbol: 'triangle', color: '#ea580c' },
  IMPORTED: { name: 'imported', symbol: 'diamond', color: '#7c3aed' },
  SAMPLED: { name: 'sampled', symbol: 'rect', color: '#64748b' },
};

export const FRONT = { name: 'Pareto front', color: '#16a34a' };

/** Drawing order: bars under the front, the front under the markers, so no marker hides behind the line. */
const Z = { bars: 1, front: 2, markers: 3 };

/** What the plot needs of a candidate (the API's CandidatePoint has it). */
export interface PlotPoint extends AccuracySource {
  readonly source: CandidateSource;
  readonly retrainedTop1: Interval | null;
}

export type ErrorBarSeries = (series: { name: string; color: string; bars: readonly Bar[] }) => Record<string, unknown>;

export interface ParetoChart {
  readonly option: Record<string, unknown>;
  readonly bounds: { min: number; max: number; step: number };
  readonly barCount: number;
}

/** Scatter per source, error bars over seeds for retrained top-1, and the front, on one padded accuracy axis. */
export function paretoChart(points: readonly PlotPoint[], basis: AccuracyBasis, errorBarSeries: ErrorBarSeries): ParetoChart {
  const byId = new Map(points.map((p) => [p.id, p]));
  const scored = scoredPoints(points, basis);
  const sources = Object.keys(MARKS) as CandidateSource[];
  const markers = sources.map((source) => ({
    type: 'scatter',
    name: MARKS[source].name,
    symbol: MARKS[source].symbol,
    z: Z.markers,
    // Thousands of candidates stay legible (and fast) with small marks drawn in large mode.
    symbolSize: scored.length > 500 ? 5 : 10,
    large: scored.length > 2000,
    color: MARKS[source].color,
    itemStyle: { color: MARKS[source].color },
    data: scored.filter((p) => byId.get(p.id)!.source === source).map((p) => ({ value: [p.cost, p.accuracy], id: p.id })),
  }));
  // Bars belong to retrained accuracies only: the others are one evaluation each, with no seeds.
  const barsBySource = sources.map((source) => ({
    source,
    bars: basis === 'retrained' ? intervalBars(points.filter((p) => p.source === source), (p) => p.macs, (p) => p.retrainedTop1) : [],
  }));
  const bars = barsBySource.map(({ source, bars }) => ({ ...errorBarSeries({ name: MARKS[source].name, color: MARKS[source].color, bars }), z: Z.bars }));
  const bounds = accuracyAxisBounds([...scored.map((p) => p.accuracy), ...barsBySource.flatMap((s) => s.bars.flatMap((b) => [b.low, b.high]))]);
  const front = {
    type: 'line',
    name: FRONT.name,
    step: 'end',
    z: Z.front,
    symbol: 'none',
    // The legend draws a line series in its series colour, not its line's: both are the front's.
    color: FRONT.color,
    itemStyle: { color: FRONT.color },
    lineStyle: { color: FRONT.color, width: 2 },
    data: paretoFront(scored).map((p) => [p.cost, p.accuracy]),
  };
  const option = {
    animation: false,
    legend: { top: 0 },
    grid: { left: 70, right: 30, top: 40, bottom: 50 },
    tooltip: {
      trigger: 'item',
      formatter: (item: { seriesName: string; data: { id?: string; value: number[] } | number[] }) => {
        const value = Array.isArray(item.data) ? item.data : item.data.value;
        const point = Array.isArray(item.data) ? undefined : byId.get(item.data.id ?? '');
        const accuracy = point && basis === 'retrained' ? accuracyInterval(point.retrainedTop1) : percent(point ? accuracyOf(point, basis) : value[1]);
        return `${item.seriesName}${point ? ` ${shortId(point.id)}` : ''}<br>${compact(value[0]!)} MACs, ${BASIS_LABEL[basis]} ${accuracy}`;
      },
    },
    xAxis: { type: 'value', name: 'MACs', nameLocation: 'middle', nameGap: 30, scale: true, axisLabel: { formatter: compact } },
    yAxis: { type: 'value', name: BASIS_LABEL[basis], min: bounds.min, max: bounds.max, interval: bounds.step, axisLabel: { formatter: (v: number) => `${Math.round(v * 1000) / 10}%` } },
    // The scatter series come first, so that the legend shows their marks rather than the bars'.
    series: [...markers, ...bars, front],
  };
  return { option, bounds, barCount: barsBySource.reduce((sum, s) => sum + s.bars.length, 0) };
}
