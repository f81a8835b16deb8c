/**
 * Where a latency table's error comes from, measured (bench/latency.ts reports it): how well a
 * measurement repeats, what the grid's interpolation misses against blocks timed at their exact
 * widths, and what adjacent blocks cost together beyond the sum of each alone.
 */
import { buildGraph, unitWidthsOf, type ChannelList } from '../../autoslim';
import { Rng } from '../rng';
import type { ResolvedSearchSpace } from '../search-space';
import { BlockTimer } from './block-timer';
import { blockSignature, fusedBlocks, type FusedBlock } from './blocks';
import type { MeasurePolicy } from './measure';
import { openReference } from './reference';
import { interpolate, type BlockEntry } from './table';
import type { ProbeSettings } from './timed-session';
import { measureConfigRelative } from './whole-model';

export interface MeasureSetup {
  readonly space: ResolvedSearchSpace;
  readonly settings: ProbeSettings;
  readonly batchSize: number;
  readonly policy: MeasurePolicy;
  /** The table's reference time (reference.ts), which turns ratios into its milliseconds. */
  readonly referenceMs: number;
}

/**
 * Each configuration measured again as a table build measures it: `rounds` passes in a seeded
 * order, each keeping its quietest pass, in the table's milliseconds (`ms`). Against the build's
 * own measurements this is the agreement a perfect predictor could reach. `rawMs` is the same
 * without the reference: the machine's own time, drift included.
 */
export async function remeasure(setup: MeasureSetup, configs: readonly ChannelList[], rounds: number, seed: number): Promise<{ ms: number[]; rawMs: number[] }> {
  const ms = configs.map(() => Infinity);
  const rawMs = configs.map(() => Infinity);
  const reference = await openReference(setup.space, setup.batchSize, setup.settings);
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const i of new Rng((seed + round) >>> 0).permutation(configs.length)) {
        const measured = await measureConfigRelative(setup.space, configs[i], setup.batchSize, setup.settings, setup.policy, reference);
        ms[i] = Math.min(ms[i], measured.ratio * setup.referenceMs);
        rawMs[i] = Math.min(rawMs[i], measured.rawMs);
      }
    }
  } finally {
    await reference.release();
  }
  return { ms, rawMs };
}

/** Every block of one configuration: timed at its exact widths, as the table interpolates it, and with its successor. */
export interface BlockLevelRow {
  readonly channels: readonly number[];
  readonly modelMs: number;
  readonly blocks: readonly { readonly name: string; readonly exactMs: number; readonly interpolatedMs: number; readonly onGrid: boolean }[];
  /** Adjacent blocks where the second reads the first's output, in network order. */
  readonly pairs: readonly { readonly first: string; readonly second: string; readonly aloneMs: number; readonly togetherMs: number }[];
}

/** Each block and pair keeps the quickest of `rounds` timings, as a table keeps its quietest round. */
export async function blockLevel(setup: MeasureSetup, entries: readonly BlockEntry[], configs: readonly ChannelList[], rounds: number): Promise<BlockLevelRow[]> {
  const { space } = setup;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const reference = await openReference(setup.space, setup.batchSize, setup.settings);
  const timer = new BlockTimer(setup.settings, setup.batchSize, setup.policy, reference);
  const timed = new Map<string, number>();
  const time = async (block: FusedBlock) => {
    const signature = blockSignature(block);
    if (!timed.has(signature)) {
      let quickest = Infinity;
      for (let round = 0; round < rounds; round++) quickest = Math.min(quickest, (await timer.time(block)).ratio * setup.referenceMs);
      timed.set(signature, quickest);
    }
    return timed.get(signature)!;
  };
  try {
    const rows: BlockLevelRow[] = [];
    for (const channels of configs) {
      const widths = unitWidthsOf(space.table, channels);
      const blocks = fusedBlocks(buildGraph(space.architecture, channels, space.options, space.structure));
      const exact = new Map<string, number>();
      for (const block of blocks) exact.set(block.name, await time(block));
      const pairs = [];
      for (let i = 0; i + 1 < blocks.length; i++) {
        const [first, second] = [blocks[i], blocks[i + 1]];
        if (!second.inputs.some((input) => input.tensor === outputOf(first))) continue;
        pairs.push({ first: first.name, second: second.name, aloneMs: exact.get(first.name)! + exact.get(second.name)!, togetherMs: await time(joined(first, second)) });
      }
      rows.push({
        channels: [...channels],
        modelMs: (await measureConfigRelative(space, channels, setup.batchSize, setup.settings, setup.policy, reference)).ratio * setup.referenceMs,
        blocks: blocks.map((b) => {
          const entry = byName.get(b.name)!;
          return { name: b.name, exactMs: exact.get(b.name)!, interpolatedMs: interpolate(entry, widths), onGrid: entry.axes.every((a) => a.widths.includes(widths[a.unit])) };
        }),
        pairs,
      });
    }
    return rows;
  } finally {
    await Promise.all([timer.release(), reference.release()]);
  }
}

function outputOf(block: FusedBlock): string {
  return block.nodes[block.nodes.length - 1].name;
}

/** Two blocks as one: the first's output stays inside, every other input comes from outside. */
export function joined(first: FusedBlock, second: FusedBlock): FusedBlock {
  const inputs = [...first.inputs, ...second.inputs.filter((i) => i.tensor !== outputOf(first) && !first.inputs.some((f) => f.tensor === i.tensor))];
  return { name: `${first.name}+${second.name}`, nodes: [...first.nodes, ...second.nodes], inputs, outputDims: second.outputDims };
}

/** The error figures of block-level rows (fractions; means over configurations or blocks). */
export interface BlockLevelFigures {
  /** |interpolated sum / exact sum − 1| per configuration: the grid's error at the model level. */
  readonly interpolationSumMape: number;
  /** |interpolated / exact − 1| of blocks whose widths fall between grid points; null when every width is on the grid. */
  readonly interpolationBlockMape: number | null;
  readonly offGridBlocks: number;
  /** The same for blocks on grid points, where the table holds a measurement: how far two timings of one block differ. */
  readonly onGridBlockMape: number | null;
  /** Σ (together − sum alone) / Σ sum alone over every adjacent pair: a ratio of sums, as a pair of tiny blocks may sum to about nothing. */
  readonly pairGapMean: number;
  /** What the sum of blocks misses per model: the gaps of disjoint adjacent pairs over the model's latency. */
  readonly pairGapShareOfModel: number;
  /** Exact sum of blocks over the model's measured latency. */
  readonly blockSumShareOfModel: number;
}

export function blockLevelFigures(rows: readonly BlockLevelRow[]): BlockLevelFigures {
  const mean = (values: readonly number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0);
  const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);
  const offGrid = rows.flatMap((r) => r.blocks.filter((b) => !b.onGrid && b.exactMs > 0));
  const onGrid = rows.flatMap((r) => r.blocks.filter((b) => b.onGrid && b.exactMs > 0));
  return {
    interpolationSumMape: mean(rows.map((r) => Math.abs(sum(r.blocks.map((b) => b.interpolatedMs)) / sum(r.blocks.map((b) => b.exactMs)) - 1))),
    interpolationBlockMape: offGrid.length ? mean(offGrid.map((b) => Math.abs(b.interpolatedMs / b.exactMs - 1))) : null,
    offGridBlocks: offGrid.length,
    onGridBlockMape: onGrid.length ? mean(onGrid.map((b) => Math.abs(b.interpolatedMs / b.exactMs - 1))) : null,
    pairGapMean: sum(rows.flatMap((r) => r.pairs.map((p) => p.togetherMs - p.aloneMs))) / sum(rows.flatMap((r) => r.pairs.map((p) => p.aloneMs))),
    pairGapShareOfModel: mean(rows.map((r) => sum(disjoint(r.pairs).map((p) => p.togetherMs - p.aloneMs)) / r.modelMs)),
    blockSumShareOfModel: mean(rows.map((r) => sum(r.blocks.map((b) => b.exactMs)) / r.modelMs)),
  };
}

/** Pairs taken in network order, skipping any that starts where the one taken before ends. */
function disjoint<T extends { first: string; second: string }>(pairs: readonly T[]): T[] {
  const taken: T[] = [];
  for (const pair of pairs) if (taken.at(-1)?.second !== pair.first) taken.push(pair);
  return taken;
}
