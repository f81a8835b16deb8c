import { ArchitectureName } from './architecture';
import { ChannelList, MIN_WIDTH_MULTIPLIER, defaultChannels, parseChannelList } from './channels';
import { CostMetric } from './cost';
import { AutoSlimError } from './errors';
import { NetworkOptions } from './options';
import { profile } from './profile';

/** A uniform width multiplier, the configuration it makes and that configuration's cost. */
export interface UniformWidth {
  readonly width: number;
  readonly channels: ChannelList;
  readonly cost: number;
}

/** Grid points per unit of width multiplier: far finer than one divisor step of any layer here. */
const GRID_PER_UNIT = 1000;
export const UNIFORM_WIDTH_STEP = 1 / GRID_PER_UNIT;

/**
 * For each budget, the widest uniform width multiplier in [0.15, maxWidth] (on a 0.001 grid) whose
 * configuration costs at most the budget; null where even the narrowest costs more. Cost is a step
 * function of the width (channels are rounded to the divisor), so the widest width that fits is
 * also the one whose cost comes closest to the budget from below. `structure` is the search space's
 * widest list: every configuration is a slice of it and is counted as one.
 */
export function widestUniformWithin(
  arch: ArchitectureName,
  opts: NetworkOptions,
  structure: ChannelList,
  metric: CostMetric,
  maxWidth: number,
  budgets: readonly number[],
): (UniformWidth | null)[] {
  if (!(maxWidth >= MIN_WIDTH_MULTIPLIER)) {
    throw new AutoSlimError('maxWidth', 'range', `must be at least ${MIN_WIDTH_MULTIPLIER}, got ${maxWidth}`);
  }
  const grid = uniformGrid(arch, opts, structure, metric, maxWidth);
  return budgets.map((budget) => {
    let widest: UniformWidth | null = null;
    for (const point of grid) if (point.cost <= budget) widest = point;
    return widest;
  });
}

/** Every grid width with its configuration and cost, narrowest first; each distinct list is profiled once. */
function uniformGrid(arch: ArchitectureName, opts: NetworkOptions, structure: ChannelList, metric: CostMetric, maxWidth: number): UniformWidth[] {
  const first = Math.round(MIN_WIDTH_MULTIPLIER * GRID_PER_UNIT);
  const last = Math.floor(maxWidth * GRID_PER_UNIT + 1e-9);
  // Integers over the grid size: 0.437, not 0.15 + 287 × 0.001 with its rounding error.
  const widths = Array.from({ length: last - first + 1 }, (_, i) => (first + i) / GRID_PER_UNIT);
  if (widths.at(-1)! < maxWidth) widths.push(maxWidth);
  const costs = new Map<string, number>();
  return widths.map((width) => {
    const channels = parseChannelList(arch, defaultChannels(arch, width, opts), opts, structure);
    const key = channels.join(',');
    let cost = costs.get(key);
    if (cost === undefined) {
      cost = profile(arch, channels, opts, 'reference', structure)[metric];
      costs.set(key, cost);
    }
    return { width, channels, cost };
  });
}
