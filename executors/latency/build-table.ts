/**
 * Builds a latency lookup table for one search space on the device this process runs on: every
 * fused block timed over a grid of its unit widths, the per-inference overhead, a calibration on
 * whole models, and a validation on random configurations the calibration never saw.
 */
import { buildGraph, channelsFromUnitWidths, randomConfig, uniformConfig, type ChannelList } from '../../autoslim';
import type { DeviceProfile, LatencyValidation } from '../contract';
import { Rng } from '../rng';
import { resolveSearchSpace, type ResolvedSearchSpace, type SearchSpaceSpec } from '../search-space';
import { baselineModel, blockModel, emptyModel } from './block-model';
import { blockInputs, blockSignature, fusedBlocks, type FusedBlock } from './blocks';
import { measureDifference, measureLatency, type MeasurePolicy } from './measure';
import { blockSum, calibrated, TABLE_FORMAT, type BlockEntry, type Calibration, type GridAxis, type LatencyTableFile } from './table';
import { TimedSession, type ProbeSettings } from './timed-session';
import { measureConfig } from './whole-model';

export interface TableOptions {
  readonly searchSpace: SearchSpaceSpec;
  readonly device: DeviceProfile;
  readonly settings: ProbeSettings;
  readonly batchSize: number;
  /** Widths measured per unit axis, both ends included; null measures every width. */
  readonly gridPoints: number | null;
  readonly calibrationConfigs: number;
  readonly validationConfigs: number;
  /** Passes over every block shape and every whole model; each keeps its quietest pass. */
  readonly rounds: number;
  readonly seed: number;
  readonly policy: MeasurePolicy;
}

export interface BuildHooks {
  readonly signal?: AbortSignal;
  progress?(fraction: number, message: string): Promise<void>;
  /** What an interrupted build of the same options already measured. */
  readonly resumed?: BuildState;
  /** Called after each measurement with everything measured so far, to save for resuming. */
  onState?(state: BuildState): Promise<void>;
}

/** Every timing so far, ms per round: block shapes by signature, the empty model, whole models in order. */
export interface BuildState {
  readonly blocks: Record<string, number[]>;
  readonly empty: number[];
  readonly models: number[][];
}

export async function buildLatencyTable(options: TableOptions, hooks: BuildHooks = {}): Promise<LatencyTableFile> {
  const started = performance.now();
  const space = resolveSearchSpace(options.searchSpace);
  const grid = blockGrid(space, options.gridPoints);
  const shapes = new Map(grid.flatMap((g) => g.points).map((p) => [p.signature, p.block]));
  const configs = configSets(space, options);
  const all = [...configs.calibration, ...configs.validation];
  const state: BuildState = {
    blocks: Object.fromEntries([...shapes.keys()].map((s) => [s, [...(hooks.resumed?.blocks[s] ?? [])]])),
    empty: [...(hooks.resumed?.empty ?? [])],
    models: all.map((_, i) => [...(hooks.resumed?.models[i] ?? [])]),
  };
  const work = (shapes.size + 1 + all.length) * options.rounds;
  let done = [...Object.values(state.blocks), state.empty, ...state.models].reduce((n, s) => n + Math.min(s.length, options.rounds), 0);
  const step = async (message: string) => {
    await hooks.onState?.(state);
    done++;
    if (done % 10 === 0 || done === work) await hooks.progress?.(done / work, message);
  };

  // Every round times every block shape, then every whole model, each time in a fresh seeded order.
  // A slow spell of the shared machine (or of this process's own garbage collection, which follows
  // the models built before) then lands in one round of a shape or model, not in all of them; and
  // blocks and models see the same machine.
  const { input } = buildGraph(space.architecture, space.structure, space.options, space.structure);
  const inputDims = [1, input.channels, input.height, input.width];
  const baselines = new Map<string, TimedSession>();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const stage = `round ${round} of ${options.rounds}`;
      const order = new Rng((options.seed + round) >>> 0);
      for (const [signature, block] of shuffled([...shapes], order)) {
        if (state.blocks[signature].length >= round) continue;
        hooks.signal?.throwIfAborted();
        const inputs = blockInputs(block, options.batchSize);
        const baselineKey = JSON.stringify(inputs);
        let baseline = baselines.get(baselineKey);
        if (!baseline) {
          baseline = await TimedSession.open(baselineModel(block), inputs, options.settings);
          baselines.set(baselineKey, baseline);
        }
        const subject = await TimedSession.open(blockModel(block), inputs, options.settings);
        try {
          state.blocks[signature].push(await measureDifference(subject, baseline, options.policy, hooks.signal));
        } finally {
          await subject.release();
        }
        await step(`${stage}: timing ${shapes.size} block shapes`);
      }
      if (state.empty.length < round) {
        const empty = await TimedSession.open(emptyModel(inputDims), [{ name: 'input', dims: [options.batchSize, ...inputDims.slice(1)] }], options.settings);
        state.empty.push((await measureLatency(empty, options.policy, hooks.signal).finally(() => empty.release())).medianMs);
        await step(`${stage}: timing the empty model`);
      }
      for (const [i, channels] of shuffled([...all.entries()], order)) {
        if (state.models[i].length >= round) continue;
        state.models[i].push((await measureConfig(space, channels, options.batchSize, options.settings, options.policy, hooks.signal)).medianMs);
        await step(`${stage}: timing ${all.length} whole models`);
      }
    }
  } finally {
    await Promise.all([...baselines.values()].map((s) => s.release()));
  }
  // Each block shape and model keeps its quietest round (the lowest of its round medians): on a
  // shared machine another process only ever adds time, and a round it got into is not the
  // model's latency. Medians of rounds, tried first, left validation errors of 10–35% under load.
  const measured = Object.fromEntries(Object.entries(state.blocks).map(([s, values]) => [s, Math.min(...values)]));
  const blockTable: BlockEntry[] = grid.map((g) => ({ name: g.name, axes: g.axes, latencyMs: g.points.map((p) => measured[p.signature]) }));
  const sum = blockSum(options.searchSpace, blockTable);
  const emptyModelMs = Math.min(...state.empty);

  const rows = all.map((channels, i) => ({ channels, blockSumMs: sum(channels), measuredMs: Math.min(...state.models[i]) }));
  const calibrationRows = rows.slice(0, configs.calibration.length);
  const fit = fitCalibration(calibrationRows, sum(uniformConfig(space.table, 0)));

  const predict = (channels: ChannelList) => calibrated(fit, sum(channels));
  return {
    format: TABLE_FORMAT,
    device: options.device,
    searchSpace: options.searchSpace,
    batchSize: options.batchSize,
    threads: options.settings.threads,
    gridPoints: options.gridPoints,
    rounds: options.rounds,
    blocks: grid.length,
    measurements: shapes.size,
    emptyModelMs,
    overheadMs: fit.overheadMs,
    scale: fit.scale,
    calibrationConfigs: calibrationRows.length,
    buildSeconds: (performance.now() - started) / 1000,
    predictedMinMs: predict(uniformConfig(space.table, 0)),
    predictedMaxMs: predict(uniformConfig(space.table, 1)),
    validation: validate(rows.slice(configs.calibration.length), fit, emptyModelMs),
    blockTable,
  };
}

interface BlockGrid {
  readonly name: string;
  readonly axes: GridAxis[];
  /** One per grid point, row-major over the axes: the block at those widths. */
  readonly points: { readonly block: FusedBlock; readonly signature: string }[];
}

/**
 * Which unit sets each block's input and output width, found by narrowing one unit at a time from
 * the widest configuration; then the block at every point of the grid those units span.
 */
function blockGrid(space: ResolvedSearchSpace, gridPoints: number | null): BlockGrid[] {
  const { table } = space;
  const widest = table.units.map((u) => u.max);
  const blocksAt = (widths: readonly number[]) =>
    new Map(fusedBlocks(buildGraph(space.architecture, channelsFromUnitWidths(table, widths), space.options, space.structure)).map((b) => [b.name, b]));
  const reference = blocksAt(widest);
  const inUnit = new Map<string, number>();
  const outUnit = new Map<string, number>();
  for (const unit of table.units.filter((u) => u.choices.length > 1)) {
    const narrowed = blocksAt(widest.map((w, i) => (i === unit.index ? unit.min : w)));
    for (const [name, block] of reference) {
      const other = narrowed.get(name)!;
      if (other.inputs[0].dims[1] !== block.inputs[0].dims[1]) inUnit.set(name, unit.index);
      if (other.outputDims[1] !== block.outputDims[1]) outUnit.set(name, unit.index);
    }
  }
  const axisOf = (unit: number): GridAxis => ({ unit, widths: gridWidths(table.units[unit].choices, gridPoints) });
  return [...reference.keys()].map((name) => {
    const units = [...new Set([inUnit.get(name), outUnit.get(name)].filter((u): u is number => u !== undefined))];
    const axes = units.map(axisOf);
    const points = gridProduct(axes).map((values) => {
      const widths = widest.map((w, i) => values[axes.findIndex((a) => a.unit === i)] ?? w);
      const block = blocksAt(widths).get(name)!;
      return { block, signature: blockSignature(block) };
    });
    return { name, axes, points };
  });
}

/** `count` of the choices, evenly spread by index, both ends included; all of them for null. */
export function gridWidths(choices: readonly number[], count: number | null): number[] {
  if (count === null || count >= choices.length) return [...choices];
  if (count < 2) throw new Error(`gridPoints: needs at least 2 widths per axis, got ${count}`);
  return [...new Set(Array.from({ length: count }, (_, i) => choices[Math.round((i * (choices.length - 1)) / (count - 1))]))];
}

function gridProduct(axes: readonly GridAxis[]): number[][] {
  return axes.reduce<number[][]>((acc, axis) => acc.flatMap((prefix) => axis.widths.map((w) => [...prefix, w])), [[]]);
}

/**
 * Calibration and validation: random configurations (what a search visits is far from uniform),
 * from two streams of the seed, distinct, none used for both.
 */
function configSets(space: ResolvedSearchSpace, options: TableOptions): { calibration: ChannelList[]; validation: ChannelList[] } {
  const calibration = distinctRandom(space, new Rng((options.seed ^ 0x9e3779b9) >>> 0), options.calibrationConfigs, new Set());
  const validation = distinctRandom(space, new Rng(options.seed >>> 0), options.validationConfigs, new Set(calibration.map(configKey)));
  return { calibration, validation };
}

function distinctRandom(space: ResolvedSearchSpace, rng: Rng, count: number, excluded: ReadonlySet<string>): ChannelList[] {
  const found = new Map<string, ChannelList>();
  // A tiny search space may have fewer distinct configurations than asked for.
  for (let tries = 0; found.size < count && tries < 100 * count; tries++) {
    const c = randomConfig(space.table, () => rng.nextFloat());
    if (!excluded.has(configKey(c))) found.set(configKey(c), c);
  }
  return [...found.values()];
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  return [...rng.permutation(items.length)].map((i) => items[i]);
}

function configKey(channels: ChannelList): string {
  return channels.join(',');
}

/**
 * Least squares of measured on summed block latency, relative (each residual divided by its
 * measurement), as the error is judged. Timed alone, a block runs with its weights and input hot in
 * cache and without its neighbours' dispatch; the fit's scale and intercept absorb what that
 * changes on average. A line that would predict no time for the narrowest configuration (its sum
 * of blocks is `floorSumMs`) is replaced by a scale alone; a degenerate fit by the plain sum plus
 * the mean difference.
 */
export function fitCalibration(rows: readonly { blockSumMs: number; measuredMs: number }[], floorSumMs: number): Calibration {
  const weights = rows.map((r) => 1 / r.measuredMs ** 2);
  const weighted = (f: (r: { blockSumMs: number; measuredMs: number }) => number) => rows.reduce((s, r, i) => s + weights[i] * f(r), 0);
  const total = weighted(() => 1);
  const meanX = weighted((r) => r.blockSumMs) / total;
  const meanY = weighted((r) => r.measuredMs) / total;
  const sxx = weighted((r) => (r.blockSumMs - meanX) ** 2);
  const scale = sxx > 0 ? weighted((r) => (r.blockSumMs - meanX) * (r.measuredMs - meanY)) / sxx : 0;
  if (rows.length < 2 || !(scale > 0)) return { overheadMs: meanY - meanX, scale: 1 };
  if (meanY - scale * meanX + scale * floorSumMs > 0) return { overheadMs: meanY - scale * meanX, scale };
  return { overheadMs: 0, scale: weighted((r) => r.blockSumMs * r.measuredMs) / weighted((r) => r.blockSumMs ** 2) };
}

function validate(
  rows: readonly { channels: ChannelList; blockSumMs: number; measuredMs: number }[],
  fit: Calibration,
  emptyModelMs: number,
): LatencyValidation {
  const errors = rows.map((r) => calibrated(fit, r.blockSumMs) / r.measuredMs - 1);
  const share = (limit: number) => (rows.length ? errors.filter((e) => Math.abs(e) <= limit).length / rows.length : 0);
  const mean = (values: readonly number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0);
  return {
    configs: rows.length,
    mape: mean(errors.map(Math.abs)),
    within5: share(0.05),
    within10: share(0.1),
    uncalibratedMape: mean(rows.map((r) => Math.abs((emptyModelMs + r.blockSumMs) / r.measuredMs - 1))),
    rows: rows.map((r) => ({ channels: [...r.channels], predictedMs: calibrated(fit, r.blockSumMs), measuredMs: r.measuredMs })),
  };
}
