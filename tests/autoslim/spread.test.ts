import {
  buildUnitTable,
  defaultChannels,
  evenTargets,
  levelConfig,
  nearestDistinct,
  parseChannelList,
  profileCost,
  spreadConfigs,
  uniformConfig,
  type Rng,
} from '../../autoslim';
import { expectAutoSlimError } from './expect-error';

const FMNIST = { inputSize: 28, numClasses: 10 };
const table = buildUnitTable('mbv2-fmnist', parseChannelList('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1, FMNIST), FMNIST), FMNIST);
const macs = profileCost(table, 'macs');

/** A small seeded generator, so the draws are the same every run. */
function seeded(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('targets spread evenly over a range', () => {
  test('the centres of equal slices', () => {
    expect(evenTargets(0, 100, 4)).toEqual([12.5, 37.5, 62.5, 87.5]);
    expect(evenTargets(10, 20, 1)).toEqual([15]);
  });
});

describe('the nearest distinct value per target', () => {
  test('each target takes the nearest value no other target took first', () => {
    expect(nearestDistinct([1, 9, 10, 11, 30], [10, 12])).toEqual([2, 3]);
    // Both targets want 16: the nearer pair (20, 16) wins it, 10 takes the next nearest.
    expect(nearestDistinct([16, 30, 2], [10, 20])).toEqual([2, 0]);
  });

  test('a target is nearer to its value than to any value left over', () => {
    const rng = seeded(7);
    const values = Array.from({ length: 300 }, () => rng() * 1000);
    const targets = evenTargets(0, 1000, 12);
    const chosen = nearestDistinct(values, targets);
    expect(new Set(chosen).size).toBe(12);
    const left = values.filter((_, i) => !chosen.includes(i));
    const nearerLeftOver = targets.flatMap((t, k) => left.filter((v) => Math.abs(v - t) < Math.abs(values[chosen[k]!]! - t)));
    expect(nearerLeftOver).toEqual([]);
  });

  test('refuses fewer values than targets, naming the field', () => {
    expectAutoSlimError(() => nearestDistinct([1], [1, 2]), 'values', 'at-least-targets');
  });
});

describe('a random configuration around a width level', () => {
  test('every unit within a quarter of its choices of the level; the ends are the narrowest and the widest', () => {
    expect(levelConfig(table, 0, () => 0.5)).toEqual(uniformConfig(table, 0));
    expect(levelConfig(table, 1, () => 0.999)).toEqual(uniformConfig(table, 1));
    expect(levelConfig(table, 0.5, () => 0.5)).toEqual(uniformConfig(table, 0.5));
    expect(macs(levelConfig(table, 0.5, () => 0))).toBeLessThan(macs(levelConfig(table, 0.5, () => 0.999)));
    expectAutoSlimError(() => levelConfig(table, 1.5, () => 0), 'level', 'range');
  });
});

describe('configurations spread over MACs', () => {
  test('K distinct configurations, one near each target between the narrowest and the widest', () => {
    const configs = spreadConfigs(table, macs, { count: 6, draws: 512, rng: seeded(1) });
    expect(configs).toHaveLength(6);
    expect(new Set(configs.map((c) => c.join(','))).size).toBe(6);
    const low = macs(uniformConfig(table, 0));
    const high = macs(uniformConfig(table, 1));
    const costs = configs.map(macs);
    const width = (high - low) / 6;
    // Each lands nearer its own target than any other chosen one does, and in the range.
    const targets = evenTargets(low, high, 6);
    expect(targets.flatMap((t, k) => costs.filter((c, j) => j !== k && Math.abs(c - t) < Math.abs(costs[k]! - t)))).toEqual([]);
    expect(Math.min(...costs)).toBeGreaterThanOrEqual(low);
    expect(Math.max(...costs)).toBeLessThanOrEqual(high);
    // Spread: each within a fifth of a slice of its target, so from the first slice to the last.
    targets.forEach((t, k) => expect(Math.abs(costs[k]! - t)).toBeLessThan(width / 5));
  });

  test('the same seed draws the same configurations, and excluded ones are never chosen', () => {
    const first = spreadConfigs(table, macs, { count: 4, draws: 256, rng: seeded(3) });
    expect(spreadConfigs(table, macs, { count: 4, draws: 256, rng: seeded(3) })).toEqual(first);
    const again = spreadConfigs(table, macs, { count: 4, draws: 256, rng: seeded(3), exclude: [first[0]!] });
    expect(again.map((c) => c.join(','))).not.toContain(first[0]!.join(','));
  });

  test('too few distinct draws, and counts that make no sense, name the field', () => {
    expectAutoSlimError(() => spreadConfigs(table, macs, { count: 3, draws: 3, rng: () => 0 }), 'count', 'distinct-configs');
    expectAutoSlimError(() => spreadConfigs(table, macs, { count: 4, draws: 2, rng: seeded(1) }), 'draws', 'at-least-count');
    expectAutoSlimError(() => spreadConfigs(table, macs, { count: -1, draws: 2, rng: seeded(1) }), 'count', 'non-negative-integer');
    expect(spreadConfigs(table, macs, { count: 0, draws: 0, rng: seeded(1) })).toEqual([]);
  });
});
