/**
 * Builds a latency lookup table for one search space on the device this process runs on: every
 * fused block timed over a grid of its unit widths, the per-inference overhead, a calibration on
 * whole models (fit.ts), and a validation on configurations the calibration never saw.
 */
import { buildGraph, channelsFromUnitWidths, uniformConfig, type ChannelList } from '../../autoslim';
import type { DeviceProfile, LatencyValidation } from '../contract';
import { Rng } from '../rng';
import { resolveSearchSpace, type ResolvedSearchSpace, type SearchSpaceSpec } from '../search-space';
import { accuracy } from './accuracy';
import { emptyModel } from './block-model';
import { BlockTimer } from './block-timer';
import { blockSignature, fusedBlocks, LAYOUT_BLOCK, type FusedBlock } from './blocks';
import { fitLatencyModel, predictWith, type LatencyModel } from './fit';
import { measureRelative, type MeasurePolicy, type Relative } from './measure';
import { openReference } from './reference';
import { blockFeatures, TABLE_FORMAT, type BlockEntry, type BlockFeatures, type GridAxis, type LatencyTableFile } from './table';
import { TimedSession, type ProbeSettings } from './timed-session';
import { measureConfigRelative } from './whole-model';

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

/**
 * Every timing so far, per round, as a ratio to the speed reference (reference.ts): block shapes by
 * signature, the empty model, whole models in order; and the reference's time in each measurement.
 */
export interface BuildState {
  readonly blocks: Record<string, number[]>;
  readonly empty: number[];
  readonly models: number[][];
  readonly referenceMs: number[];
}

export async function buildLatencyTable(options: TableOptions, hooks: BuildHooks = {}): Promise<LatencyTableFile> {
  const started = performance.now();
  const space = resolveSearchSpace(options.searchSpace);
  const grid = blockGrid(space, options.gridPoints);
  const shapes = new Map(grid.flatMap((g) => g.points).map((p) => [p.signature, p.block]));
  const configs = configSets(space, options);
  const all = [...configs.calibration, ...configs.validation];
  // A state saved before timings were relative to the reference holds milliseconds: it starts over.
  const resumed = hooks.resumed?.referenceMs ? hooks.resumed : undefined;
  const state: BuildState = {
    blocks: Object.fromEntries([...shapes.keys()].map((s) => [s, [...(resumed?.blocks[s] ?? [])]])),
    empty: [...(resumed?.empty ?? [])],
    models: all.map((_, i) => [...(resumed?.models[i] ?? [])]),
    referenceMs: [...(resumed?.referenceMs ?? [])],
  };
  const keep = (timings: number[], measured: Relative) => {
    timings.push(measured.ratio);
    state.referenceMs.push(measured.referenceMs);
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
  const reference = await openReference(space, options.batchSize, options.settings);
  const timer = new BlockTimer(options.settings, options.batchSize, options.policy, reference);
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const stage = `round ${round} of ${options.rounds}`;
      const order = new Rng((options.seed + round) >>> 0);
      for (const [signature, block] of shuffled([...shapes], order)) {
        if (state.blocks[signature].length >= round) continue;
        keep(state.blocks[signature], await timer.time(block, hooks.signal));
        await step(`${stage}: timing ${shapes.size} block shapes`);
      }
      if (state.empty.length < round) {
        const empty = await TimedSession.open(emptyModel(inputDims), [{ name: 'input', dims: [options.batchSize, ...inputDims.slice(1)] }], options.settings);
        keep(state.empty, await measureRelative(empty, null, reference, options.policy, hooks.signal).finally(() => empty.release()));
        await step(`${stage}: timing the empty model`);
      }
      for (const [i, channels] of shuffled([...all.entries()], order)) {
        if (state.models[i].length >= round) continue;
        keep(state.models[i], await measureConfigRelative(space, channels, options.batchSize, options.settings, options.policy, reference, hooks.signal));
        await step(`${stage}: timing ${all.length} whole models`);
      }
    }
    // A shape whose two quickest rounds disagree was slowed in all but (at most) one of them, and
    // its minimum may be too: it is timed again, up to `rounds` more times, until two agree.
    for (let extra = 1; options.rounds >= 2 && extra <= options.rounds; extra++) {
      const msPerUnit = Math.min(...state.referenceMs);
      const noisy = [...shapes].filter(([signature]) => unsettled(state.blocks[signature], msPerUnit) && state.blocks[signature].length < options.rounds + extra);
      if (noisy.length === 0) break;
      await hooks.progress?.(done / work, `timing ${noisy.length} block shapes whose rounds disagree again (${extra} of at most ${options.rounds})`);
      for (const [signature, block] of noisy) {
        keep(state.blocks[signature], await timer.time(block, hooks.signal));
        await hooks.onState?.(state);
      }
    }
  } finally {
    await Promise.all([timer.release(), reference.release()]);
  }
  // Ratios become milliseconds at the reference's quickest: the device undisturbed. Each block
  // shape and model keeps its quietest round (the lowest ratio): what the reference does not
  // share of a disturbance (another process's burst in one of the two) only ever adds time.
  // Medians of rounds, tried first, left validation errors of 10–35% under load.
  const referenceMs = Math.min(...state.referenceMs);
  const quietest = (ratios: readonly number[]) => Math.min(...ratios) * referenceMs;
  const measured = Object.fromEntries(Object.entries(state.blocks).map(([s, values]) => [s, quietest(values)]));
  const blockTable: BlockEntry[] = grid.map((g) => ({ name: g.name, axes: g.axes, latencyMs: g.points.map((p) => measured[p.signature]) }));
  const features = blockFeatures(options.searchSpace, blockTable);
  const emptyModelMs = quietest(state.empty);

  const rows = all.map((channels, i) => ({ channels, ...features(channels), measuredMs: quietest(state.models[i]) }));
  const calibrationRows = rows.slice(0, configs.calibration.length);
  const widest = features(uniformConfig(space.table, 1));
  const model = fitLatencyModel(calibrationRows, features(uniformConfig(space.table, 0)));

  const predict = (channels: ChannelList) => predictWith(model, features(channels));
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
    referenceMs,
    overheadMs: model.interceptMs,
    scale: effectiveScale(model, widest),
    calibrationConfigs: calibrationRows.length,
    buildSeconds: (performance.now() - started) / 1000,
    predictedMinMs: predict(uniformConfig(space.table, 0)),
    predictedMaxMs: predict(uniformConfig(space.table, 1)),
    validation: validate(rows.slice(configs.calibration.length), model, emptyModelMs),
    model,
    retimedShapes: Object.values(state.blocks).filter((timings) => timings.length > options.rounds).length,
    calibrationRows: calibrationRows.map((r) => ({ channels: [...r.channels], measuredMs: r.measuredMs })),
    blockTable,
  };
}

/** Two timings of a block agree within 5% of the quicker, or 1 µs where that is more. */
const AGREEMENT = { relative: 0.05, absoluteMs: 0.001 };

/** Whether the quickest of a shape's timings (in units of `msPerUnit` ms) is not yet confirmed by a second within AGREEMENT. */
export function unsettled(timings: readonly number[], msPerUnit = 1): boolean {
  if (timings.length < 2) return false;
  const [quickest, next] = [...timings].sort((a, b) => a - b);
  return next - quickest > Math.max(AGREEMENT.relative * quickest, AGREEMENT.absoluteMs / msPerUnit);
}

/** The model's block coefficients averaged with the widest configuration's block latencies as weights: one scale to quote. */
export function effectiveScale(model: LatencyModel, { kindSumsMs }: BlockFeatures): number {
  const total = kindSumsMs.reduce((s, v) => s + v, 0);
  return total > 0 ? (predictWith(model, { kindSumsMs, layoutMelems: 0, isolatedMelems: 0 }) - model.interceptMs) / total : 1;
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
  const axisOf = (unit: number): GridAxis => ({ unit, widths: gridWidths(table.units[unit].choices, gridPoints), alignment: LAYOUT_BLOCK });
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

/**
 * `count` widths of each kind (multiples of LAYOUT_BLOCK and the others), evenly spread by index
 * over that kind's choices with both ends; every choice for null or where a kind has no more.
 */
export function gridWidths(choices: readonly number[], count: number | null): number[] {
  if (count !== null && count < 2) throw new Error(`gridPoints: needs at least 2 widths per axis, got ${count}`);
  if (count === null) return [...choices];
  const kinds = [choices.filter((c) => c % LAYOUT_BLOCK === 0), choices.filter((c) => c % LAYOUT_BLOCK !== 0)];
  return kinds.flatMap((kind) => spreadOver(kind, count)).sort((a, b) => a - b);
}

function spreadOver(choices: readonly number[], count: number): number[] {
  if (count >= choices.length) return [...choices];
  return [...new Set(Array.from({ length: count }, (_, i) => choices[Math.round((i * (choices.length - 1)) / (count - 1))]))];
}

function gridProduct(axes: readonly GridAxis[]): number[][] {
  return axes.reduce<number[][]>((acc, axis) => acc.flatMap((prefix) => axis.widths.map((w) => [...prefix, w])), [[]]);
}

/**
 * Calibration and validation configurations, spread over the whole cost range: the i-th of n sits
 * at a random position in the i-th n-th of [0, 1] (narrowest to widest), every unit jittered
 * around it, so a set covers narrow and wide models alike and no two units move in lockstep.
 * Calibration also has the narrowest and the widest configuration, which anchor its line. Two
 * streams of the seed, and no configuration in both sets.
 */
function configSets(space: ResolvedSearchSpace, options: TableOptions): { calibration: ChannelList[]; validation: ChannelList[] } {
  const anchors = [uniformConfig(space.table, 0), uniformConfig(space.table, 1)];
  const calibration = [
    ...new Map(anchors.map((c) => [configKey(c), c])).values(),
    ...spreadConfigs(space, new Rng((options.seed ^ 0x9e3779b9) >>> 0), Math.max(0, options.calibrationConfigs - anchors.length), new Set(anchors.map(configKey))),
  ].slice(0, options.calibrationConfigs);
  const validation = spreadConfigs(space, new Rng(options.seed >>> 0), options.validationConfigs, new Set(calibration.map(configKey)));
  return { calibration, validation };
}

/** How far each unit's position strays from its configuration's, as a fraction of the range. */
const UNIT_JITTER = 0.25;

export function spreadConfigs(space: ResolvedSearchSpace, rng: Rng, count: number, excluded: ReadonlySet<string>): ChannelList[] {
  const found = new Map<string, ChannelList>();
  // A tiny search space may have fewer distinct configurations than asked for.
  for (let tries = 0; found.size < count && tries < 100 * count; tries++) {
    const slot = found.size;
    const position = (slot + rng.nextFloat()) / count;
    const widths = space.table.units.map((u) => {
      const at = Math.min(1, Math.max(0, position + UNIT_JITTER * (2 * rng.nextFloat() - 1)));
      return u.choices[Math.round(at * (u.choices.length - 1))];
    });
    const c = channelsFromUnitWidths(space.table, widths);
    if (!excluded.has(configKey(c)) && !found.has(configKey(c))) found.set(configKey(c), c);
  }
  return [...found.values()];
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  return [...rng.permutation(items.length)].map((i) => items[i]);
}

function configKey(channels: ChannelList): string {
  return channels.join(',');
}

function validate(
  rows: readonly (BlockFeatures & { channels: ChannelList; measuredMs: number })[],
  model: LatencyModel,
  emptyModelMs: number,
): LatencyValidation {
  const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);
  const predicted = rows.map((r) => predictWith(model, r));
  return {
    ...accuracy(predicted, rows.map((r) => r.measuredMs)),
    uncalibratedMape: mean(rows.map((r) => Math.abs((emptyModelMs + sum(r.kindSumsMs)) / r.measuredMs - 1))),
    rows: rows.map((r, i) => ({ channels: [...r.channels], predictedMs: predicted[i], measuredMs: r.measuredMs })),
  };
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0;
}
