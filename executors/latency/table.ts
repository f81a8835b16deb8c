/**
 * The latency lookup table as stored (an artifact of kind LATENCY_TABLE), and predictions from it.
 * Every fused block of the search space has a grid of measured latencies over the widths of the
 * units that set its input and output channels; a configuration's latency is interpolated per block
 * and summed, then calibrated: overheadMs + scale × sum.
 */
import { buildGraph, unitWidthsOf, type ChannelList } from '../../autoslim';
import type { DeviceProfile, LatencyTableSummary } from '../contract';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { fusedBlocks } from './blocks';

export const TABLE_FORMAT = 'slimlab.latency-table/1';

/** One axis of a block's grid: a unit whose width sets the block's input or output channels. */
export interface GridAxis {
  readonly unit: number;
  /** Measured widths, ascending: a subset of the unit's choices that includes both ends. */
  readonly widths: readonly number[];
}

export interface BlockEntry {
  readonly name: string;
  /** No axis: no unit changes this block. Two axes: input unit first. */
  readonly axes: readonly GridAxis[];
  /** Latency in ms per grid point, row-major over the axes (the last axis varies fastest). */
  readonly latencyMs: readonly number[];
}

export interface LatencyTableFile extends LatencyTableSummary {
  readonly format: typeof TABLE_FORMAT;
  readonly device: DeviceProfile;
  readonly searchSpace: SearchSpaceSpec;
  readonly blockTable: readonly BlockEntry[];
}

export function parseTable(bytes: Buffer): LatencyTableFile {
  const table = JSON.parse(bytes.toString('utf8')) as LatencyTableFile;
  if (table.format !== TABLE_FORMAT) throw new Error(`latency table: format ${String(table.format)}, expected ${TABLE_FORMAT}`);
  return table;
}

export interface Calibration {
  readonly overheadMs: number;
  readonly scale: number;
}

/** Sum of the interpolated block latencies of a configuration, before calibration. */
export type BlockSum = (channels: ChannelList) => number;

export function blockSum(searchSpace: SearchSpaceSpec, entries: readonly BlockEntry[]): BlockSum {
  const { table: units, architecture, options, structure } = resolveSearchSpace(searchSpace);
  const byName = new Map(entries.map((e) => [e.name, e]));
  // Every configuration of a search space has the same blocks; only their widths change.
  const names = fusedBlocks(buildGraph(architecture, structure, options, structure)).map((b) => b.name);
  for (const name of names) if (!byName.has(name)) throw new Error(`latency table: no entry for block ${name}`);
  return (channels) => {
    const widths = unitWidthsOf(units, channels);
    return names.reduce((sum, name) => sum + interpolate(byName.get(name)!, widths), 0);
  };
}

/** Predicted latency in ms of configurations of the table's search space. Deterministic. */
export function latencyPredictor(table: LatencyTableFile): (channels: ChannelList) => number {
  const sum = blockSum(table.searchSpace, table.blockTable);
  return (channels) => calibrated(table, sum(channels));
}

export function calibrated(calibration: Calibration, blockSumMs: number): number {
  return calibration.overheadMs + calibration.scale * blockSumMs;
}

/** Multilinear interpolation over the block's grid at the configuration's unit widths. */
export function interpolate(entry: BlockEntry, unitWidths: readonly number[]): number {
  let total = 0;
  const corners = 1 << entry.axes.length;
  for (let corner = 0; corner < corners; corner++) {
    let weight = 1;
    let index = 0;
    entry.axes.forEach((axis, a) => {
      const { below, fraction } = bracket(axis.widths, unitWidths[axis.unit]);
      const upper = (corner >> a) & 1;
      weight *= upper ? fraction : 1 - fraction;
      index = index * axis.widths.length + Math.min(axis.widths.length - 1, below + upper);
    });
    if (weight > 0) total += weight * entry.latencyMs[index];
  }
  return total;
}

/** The grid cell holding `width`: index of its lower end and the position inside, in [0, 1]. */
function bracket(widths: readonly number[], width: number): { below: number; fraction: number } {
  if (width <= widths[0]) return { below: 0, fraction: 0 };
  for (let i = 0; i < widths.length - 1; i++) {
    if (width <= widths[i + 1]) return { below: i, fraction: (width - widths[i]) / (widths[i + 1] - widths[i]) };
  }
  return { below: widths.length - 1, fraction: 0 };
}
