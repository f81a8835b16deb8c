import type { ChannelList } from './channels';
import { AutoSlimError } from './errors';
import type { CostFn } from './greedy';
import { uniformConfig, type Rng } from './sampling';
import { channelsFromUnitWidths, type UnitTable } from './units';

export interface SpreadOptions {
  /** Configurations wanted. */
  readonly count: number;
  /** Random configurations drawn to choose them from. */
  readonly draws: number;
  readonly rng: Rng;
  /** Channel lists that must not be chosen (those a study already has). */
  readonly exclude?: readonly (readonly number[])[];
}

/** How far a unit's relative width strays from its draw's level, either way. */
const LEVEL_SPREAD = 0.25;

/**
 * `count` distinct configurations spread evenly over cost, for a ranking study (TRUST.md: τ over
 * configurations across the whole cost range). Each of `count` targets, the centres of equal
 * slices of [narrowest, widest] cost, gets the draw nearest to it. One per target, cheapest first.
 *
 * Draws with every unit's width independent (randomConfig) pile up in the middle: on mbv2-fmnist
 * 98% of them fall within 1.7–5.9 M of a 0.4–9.1 M MAC range, so the end targets would get no
 * draw near them. Each draw here first picks a level in [0, 1], then every unit a width around
 * that level (see levelConfig), so the draws reach both ends and still vary unit by unit.
 */
export function spreadConfigs(table: UnitTable, cost: CostFn, options: SpreadOptions): ChannelList[] {
  const { count, draws } = options;
  if (!Number.isInteger(count) || count < 0) throw new AutoSlimError('count', 'non-negative-integer', `got ${count}`);
  if (!Number.isInteger(draws) || draws < count) throw new AutoSlimError('draws', 'at-least-count', `needs at least ${count} draws, got ${draws}`);
  if (count === 0) return [];
  const taken = new Set((options.exclude ?? []).map(keyOf));
  const pool: ChannelList[] = [];
  for (let i = 0; i < draws; i++) {
    const config = levelConfig(table, options.rng(), options.rng);
    const key = keyOf(config);
    if (taken.has(key)) continue;
    taken.add(key);
    pool.push(config);
  }
  if (pool.length < count) {
    throw new AutoSlimError('count', 'distinct-configs', `${draws} random draws gave only ${pool.length} new distinct configurations, fewer than ${count}`);
  }
  const targets = evenTargets(cost(uniformConfig(table, 0)), cost(uniformConfig(table, 1)), count);
  return nearestDistinct(pool.map(cost), targets).map((i) => pool[i]!);
}

/** The centres of `count` equal slices of [low, high], ascending. */
export function evenTargets(low: number, high: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => low + ((high - low) * (i + 0.5)) / count);
}

/**
 * For each target, the index of a value near it, no index twice: pairs are taken closest first
 * (ties: lower target, then lower index), so a target's value is nearer to it than every value no
 * target took. Needs at least as many values as targets.
 */
export function nearestDistinct(values: readonly number[], targets: readonly number[]): number[] {
  if (values.length < targets.length) {
    throw new AutoSlimError('values', 'at-least-targets', `${targets.length} targets need at least as many values, got ${values.length}`);
  }
  const pairs = targets.flatMap((t, target) => values.map((v, value) => ({ target, value, distance: Math.abs(v - t) })));
  pairs.sort((a, b) => a.distance - b.distance || a.target - b.target || a.value - b.value);
  const chosen = new Array<number>(targets.length).fill(-1);
  const used = new Set<number>();
  let left = targets.length;
  for (const { target, value } of pairs) {
    if (left === 0) break;
    if (chosen[target] !== -1 || used.has(value)) continue;
    chosen[target] = value;
    used.add(value);
    left--;
  }
  return chosen;
}

/**
 * A random configuration around a width level: each unit's relative position among its choices is
 * drawn uniformly within LEVEL_SPREAD of `level`, clipped to [0, 1] (0 its narrowest, 1 its widest).
 */
export function levelConfig(table: UnitTable, level: number, rng: Rng): ChannelList {
  if (!(level >= 0 && level <= 1)) throw new AutoSlimError('level', 'range', `${level} is outside [0, 1]`);
  return channelsFromUnitWidths(
    table,
    table.units.map((u) => {
      const position = Math.min(1, Math.max(0, level + (2 * rng() - 1) * LEVEL_SPREAD));
      return u.choices[Math.round(position * (u.choices.length - 1))]!;
    }),
  );
}

function keyOf(channels: readonly number[]): string {
  return channels.join(',');
}
