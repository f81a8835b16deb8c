import type { ChannelUnit } from './api/types';
import type { ChartOption } from './components/Chart';

/** One bar series of a unit-width chart: a width per unit, in the order of `units`. */
export interface WidthSeries {
  readonly name: string;
  readonly widths: readonly number[];
  readonly color: string;
  /** '-100%' draws the series over the previous one instead of beside it. */
  readonly barGap?: string;
}

/** Bars of channels per unit, one series each: the Trajectory's step against the widest config, Compare's A against B. */
export function unitWidthChart(units: readonly ChannelUnit[], series: readonly WidthSeries[]): ChartOption {
  return {
    animation: false,
    legend: { top: 0 },
    grid: { left: 50, right: 20, top: 30, bottom: 90 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: units.map((u) => u.name), axisLabel: { rotate: 60 } },
    yAxis: { type: 'value', name: 'channels' },
    series: series.map((s) => ({ type: 'bar', name: s.name, data: [...s.widths], itemStyle: { color: s.color }, ...(s.barGap && { barGap: s.barGap }) })),
  };
}

/** A configuration's width of each unit: the channels of the unit's first member layer. */
export function widthsOf(units: readonly ChannelUnit[], channels: readonly number[]): number[] {
  return units.map((u) => channels[u.members[0]!]!);
}
