/**
 * The latency lookup table as stored (an artifact of kind LATENCY_TABLE), and predictions from it.
 * Every fused block of the search space has a grid of measured latencies over the widths of the
 * units that set its input and output channels; a configuration's latency is interpolated per block,
 * summed per kind of block, and calibrated by the table's model (fit.ts). Tables of format 1 have
 * no model: overheadMs + scale × sum.
 */
import { buildGraph, unitWidthsOf, type ChannelList } from '../../autoslim';
import type { DeviceProfile, LatencyTableSummary } from '../contract';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { fusedBlocks, isolatedConversions, layoutConversions } from './blocks';
import { BLOCK_KINDS, blockKind, predictWith, type LatencyModel } from './fit';

export const TABLE_FORMAT = 'slimlab.latency-table/2';
const READABLE_FORMATS: readonly string[] = ['slimlab.latency-table/1', TABLE_FORMAT];

/** One axis of a block's grid: a unit whose width sets the block's input or output channels. */
export interface GridAxis {
  readonly unit: number;
  /** Measured widths, ascending: a subset of the unit's choices that includes both ends. */
  readonly widths: readonly number[];
  /**
   * Widths that are multiples of this and widths that are not interpolate each among their own
   * kind (see LAYOUT_BLOCK); absent from format 1, whose axes interpolate across all widths.
   */
  readonly alignment?: number;
}


export interface BlockEntry {
  readonly name: string;
  /** No axis: no unit changes this block. Two axes: input unit first. */
  readonly axes: readonly GridAxis[];
  /** Latency in ms per grid point, row-major over the axes (the last axis varies fastest). */
  readonly latencyMs: readonly number[];
}

export interface LatencyTableFile extends LatencyTableSummary {
  readonly format: string;
  readonly device: DeviceProfile;
  readonly searchSpace: SearchSpaceSpec;
  readonly blockTable: readonly BlockEntry[];
  /** How block sums become a model's latency, and the measured models it was fit on; absent from format 1. */
  readonly model?: LatencyModel;
  readonly calibrationRows?: readonly { readonly channels: readonly number[]; readonly measuredMs: number }[];
  /**
   * The speed reference's quickest time in the build (reference.ts): every latency in the table is
   * the device's at that speed. Absent from tables built before timings were relative.
   */
  readonly referenceMs?: number;
  /** Block shapes timed beyond `rounds` because their rounds disagreed. */
  readonly retimedShapes?: number;
}

export function parseTable(bytes: Buffer): LatencyTableFile {
  const table = JSON.parse(bytes.toString('utf8')) as LatencyTableFile;
  if (!READABLE_FORMATS.includes(table.format)) throw new Error(`latency table: format ${String(table.format)}, expected ${TABLE_FORMAT}`);
  return table;
}

export interface Calibration {
  readonly overheadMs: number;
  readonly scale: number;
}

/** What a configuration's latency is predicted from (fit.ts). */
export interface BlockFeatures {
  /** Interpolated block latencies summed per kind of block (BLOCK_KINDS order). */
  readonly kindSumsMs: number[];
  /** Millions of values converted between layouts where the network changes layout (blocks.ts). */
  readonly layoutMelems: number;
  /** Millions of values its blocks convert when timed alone but not in the network (blocks.ts). */
  readonly isolatedMelems: number;
}

export function blockFeatures(searchSpace: SearchSpaceSpec, entries: readonly BlockEntry[]): (channels: ChannelList) => BlockFeatures {
  const { table: units, architecture, options, structure } = resolveSearchSpace(searchSpace);
  const byName = new Map(entries.map((e) => [e.name, e]));
  // Every configuration of a search space has the same blocks; only their widths (and so their layouts) change.
  for (const { name } of fusedBlocks(buildGraph(architecture, structure, options, structure))) {
    if (!byName.has(name)) throw new Error(`latency table: no entry for block ${name}`);
  }
  return (channels) => {
    const widths = unitWidthsOf(units, channels);
    const graph = buildGraph(architecture, channels, options, structure);
    const kindSumsMs = BLOCK_KINDS.map(() => 0);
    for (const block of fusedBlocks(graph)) kindSumsMs[BLOCK_KINDS.indexOf(blockKind(block.nodes))] += interpolate(byName.get(block.name)!, widths);
    return { kindSumsMs, layoutMelems: layoutConversions(graph) / 1e6, isolatedMelems: isolatedConversions(graph) / 1e6 };
  };
}

/** Predicted latency in ms of configurations of the table's search space. Deterministic. */
export function latencyPredictor(table: LatencyTableFile): (channels: ChannelList) => number {
  const features = blockFeatures(table.searchSpace, table.blockTable);
  const { model } = table;
  if (model) return (channels) => predictWith(model, features(channels));
  return (channels) => calibrated(table, features(channels).kindSumsMs.reduce((s, v) => s + v, 0));
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
      const { below, above, fraction } = bracket(axis, unitWidths[axis.unit]);
      const upper = (corner >> a) & 1;
      weight *= upper ? fraction : 1 - fraction;
      index = index * axis.widths.length + (upper ? above : below);
    });
    if (weight > 0) total += weight * entry.latencyMs[index];
  }
  return total;
}

/**
 * The grid widths around `width` among those of its kind (all of them when the axis has no
 * alignment, or none of its kind): indices of the two ends and the position between, in [0, 1].
 * Outside the measured range the nearest end stands for it.
 */
function bracket(axis: GridAxis, width: number): { below: number; above: number; fraction: number } {
  const aligned = (w: number) => axis.alignment !== undefined && w % axis.alignment === 0;
  const sameKind = axis.widths.map((_, i) => i).filter((i) => aligned(axis.widths[i]) === aligned(width));
  const candidates = axis.alignment !== undefined && sameKind.length > 0 ? sameKind : axis.widths.map((_, i) => i);
  const first = candidates[0];
  const last = candidates[candidates.length - 1];
  if (width <= axis.widths[first]) return { below: first, above: first, fraction: 0 };
  for (let k = 0; k < candidates.length - 1; k++) {
    const [i, j] = [candidates[k], candidates[k + 1]];
    if (width <= axis.widths[j]) return { below: i, above: j, fraction: (width - axis.widths[i]) / (axis.widths[j] - axis.widths[i]) };
  }
  return { below: last, above: last, fraction: 0 };
}
