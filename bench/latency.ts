/**
 * Builds latency lookup tables on this machine, validates each on configurations spread over the
 * whole cost range that its calibration never saw, and measures where the error comes from.
 *
 *   npm run bench:latency -- [--scale small|mobilenet|both] [--runs 3] [--configs 30] [--calibration N]
 *                            [--grid N] [--rounds N] [--block-configs 3] [--threads 1] [--batch 1] [--seed 0]
 *
 * Scales: `small` is mbv2-fmnist 1.5x at 28×28 (0.1–0.5 ms a model, every width measured);
 * `mobilenet` is MobileNetV2 1.0x at 224×224 with 1000 classes (milliseconds a model, 4 widths
 * per unit axis, interpolated between). Run r uses seed + r − 1, so each run draws its own
 * calibration and validation configurations. Per run it prints predicted against measured
 * latency (MAPE, within ±5% / ±10%, Kendall τ), the build time, and the error sources:
 * repeatability (the validation configurations measured a second time), the per-model overhead
 * (the empty model, the fit's intercept), the grid's interpolation error and what adjacent blocks
 * cost together beyond their sum (both from every block of `--block-configs` validation
 * configurations timed at its exact widths; 0 leaves this out). At the end, the median and range over the runs, as
 * a markdown table for bench/results/latency.md and, on the last line, one JSON object.
 *
 * Measurements are only as quiet as the machine: run it idle.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultChannels, parseChannelList, type ArchitectureName } from '../autoslim';
import { accuracy, type PredictionAccuracy } from '../executors/latency/accuracy';
import { buildLatencyTable } from '../executors/latency/build-table';
import { describeDevice } from '../executors/latency/device';
import { blockLevel, blockLevelFigures, remeasure, type BlockLevelFigures } from '../executors/latency/error-sources';
import { BLOCK_KINDS, fitAt, predictWith } from '../executors/latency/fit';
import { DEFAULT_POLICY, MIN_TIMED_RUNS } from '../executors/latency/measure';
import { blockFeatures } from '../executors/latency/table';
import { resolveSearchSpace, type SearchSpaceSpec } from '../executors/search-space';

interface Scale {
  readonly architecture: ArchitectureName;
  readonly inputSize: number;
  readonly numClasses: number;
  readonly width: number;
  readonly gridPoints: number | null;
  readonly rounds: number;
  readonly calibration: number;
}

const SCALES: Record<'small' | 'mobilenet', Scale> = {
  small: { architecture: 'mbv2-fmnist', inputSize: 28, numClasses: 10, width: 1.5, gridPoints: null, rounds: 3, calibration: 60 },
  mobilenet: { architecture: 'mobilenet-v2', inputSize: 224, numClasses: 1000, width: 1, gridPoints: 4, rounds: 3, calibration: 60 },
};

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'small' },
    runs: { type: 'string', default: '1' },
    configs: { type: 'string', default: '30' },
    calibration: { type: 'string' },
    grid: { type: 'string' },
    rounds: { type: 'string' },
    'block-configs': { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
  },
});
const scaleNames = values.scale === 'both' ? (['small', 'mobilenet'] as const) : [values.scale];
for (const name of scaleNames) if (!(name in SCALES)) throw new Error(`--scale: must be small, mobilenet or both, got ${name}`);
const threads = Number(values.threads);
const settings = { provider: 'cpu' as const, threads };
const device = describeDevice(settings.provider, threads);
const policy = { ...DEFAULT_POLICY, timedRuns: MIN_TIMED_RUNS };

interface RunFigures extends PredictionAccuracy {
  readonly run: number;
  readonly seed: number;
  readonly buildSeconds: number;
  readonly benchSeconds: number;
  readonly blockShapes: number;
  readonly retimedShapes: number;
  readonly uncalibratedMape: number;
  /** The same calibration rows fit with one scale for every kind of block and no layout term, on the same validation. */
  readonly singleScale: PredictionAccuracy;
  readonly model: {
    readonly interceptMs: number;
    readonly coefficients: readonly number[];
    readonly layoutMsPerMelem: number;
    readonly isolatedMsPerMelem: number;
    readonly ridge: number | 'common scale';
    readonly looMape: number;
  };
  readonly measuredMinMs: number;
  readonly measuredMaxMs: number;
  readonly emptyModelMs: number;
  readonly repeatability: PredictionAccuracy;
  /** The second measurement in the machine's own milliseconds, without the speed reference, against the table's. */
  readonly rawRepeatability: PredictionAccuracy;
  readonly referenceMs: number;
  /** Null with `--block-configs 0`. */
  readonly blockLevel: BlockLevelFigures | null;
  readonly loadAverage: readonly number[];
}

async function runOnce(scaleName: string, scale: Scale, run: number): Promise<RunFigures> {
  const started = performance.now();
  const seed = Number(values.seed) + run - 1;
  const opts = { inputSize: scale.inputSize, numClasses: scale.numClasses };
  const spec: SearchSpaceSpec = {
    architecture: scale.architecture,
    ...opts,
    maxChannels: defaultChannels(scale.architecture, scale.width, opts),
    groups: 12,
    divisor: 8,
    unitOverrides: {},
  };
  const rounds = values.rounds === undefined ? scale.rounds : Number(values.rounds);
  const batchSize = Number(values.batch);
  const progress = (stage: string) => async (fraction: number, message: string) =>
    void process.stderr.write(`\r${scaleName} run ${run} ${stage} ${(100 * fraction).toFixed(0).padStart(3)}% ${message}          `);
  const table = await buildLatencyTable(
    {
      searchSpace: spec,
      device,
      settings,
      batchSize,
      gridPoints: values.grid === undefined ? scale.gridPoints : Number(values.grid),
      calibrationConfigs: values.calibration === undefined ? scale.calibration : Number(values.calibration),
      validationConfigs: Number(values.configs),
      rounds,
      seed,
      policy,
    },
    { progress: progress('table') },
  );
  const space = resolveSearchSpace(spec);
  const parse = (channels: readonly number[]) => parseChannelList(space.architecture, channels, space.options, space.structure);
  const rows = table.validation.rows;
  const measured = rows.map((r) => r.measuredMs);

  // The fit of earlier tables (one scale, one intercept) on the same blocks, calibration and validation: what the per-kind fit adds.
  const features = blockFeatures(spec, table.blockTable);
  const single = fitAt(
    table.calibrationRows!.map((r) => ({ ...features(parse(r.channels)), measuredMs: r.measuredMs })),
    Infinity,
  );
  const singleScale = accuracy(rows.map((r) => predictWith(single, features(parse(r.channels)))), measured);

  const setup = { space, settings, batchSize, policy, referenceMs: table.referenceMs! };
  await progress('repeat')(0, `measuring ${rows.length} validation models again`);
  const again = await remeasure(setup, rows.map((r) => parse(r.channels)), rounds, seed + 1000);
  const byCost = [...rows].sort((a, b) => a.measuredMs - b.measuredMs);
  const count = Math.min(Number(values['block-configs']), byCost.length);
  const picked = Array.from({ length: count }, (_, i) => byCost[Math.round((i * (byCost.length - 1)) / Math.max(1, count - 1))]);
  if (count > 0) await progress('blocks')(0, `timing every block and adjacent pair of ${count} validation models`);
  const blocks = count > 0 ? await blockLevel(setup, table.blockTable, picked.map((r) => parse(r.channels)), rounds) : [];
  process.stderr.write('\n');

  const model = table.model!;
  return {
    run,
    seed,
    ...accuracy(rows.map((r) => r.predictedMs), measured),
    buildSeconds: table.buildSeconds,
    benchSeconds: (performance.now() - started) / 1000,
    blockShapes: table.measurements,
    retimedShapes: table.retimedShapes!,
    uncalibratedMape: table.validation.uncalibratedMape,
    singleScale,
    model: {
      interceptMs: model.interceptMs,
      coefficients: model.coefficients,
      layoutMsPerMelem: model.layoutMsPerMelem,
      isolatedMsPerMelem: model.isolatedMsPerMelem ?? 0,
      ridge: model.ridge ?? 'common scale',
      looMape: model.looMape,
    },
    measuredMinMs: Math.min(...measured),
    measuredMaxMs: Math.max(...measured),
    emptyModelMs: table.emptyModelMs,
    repeatability: accuracy(measured, again.ms),
    rawRepeatability: accuracy(measured, again.rawMs),
    referenceMs: table.referenceMs!,
    blockLevel: blocks.length > 0 ? blockLevelFigures(blocks) : null,
    loadAverage: loadavg(),
  };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null, digits = 3) => (v === null ? 'n/a' : v.toFixed(digits));

function printRun(scale: string, f: RunFigures): void {
  console.log(
    `${scale} run ${f.run} (seed ${f.seed}): ${f.configs} validation models ${num(f.measuredMinMs)}–${num(f.measuredMaxMs)} ms; ` +
      `MAPE ${pct(f.mape)}, within ±5% ${pct(f.within5)}, within ±10% ${pct(f.within10)}, τ ${num(f.kendallTau)}; ` +
      `built in ${f.buildSeconds.toFixed(0)} s (${f.blockShapes} block shapes, ${f.retimedShapes} timed again), bench ${f.benchSeconds.toFixed(0)} s, load ${f.loadAverage.map((l) => l.toFixed(1)).join(' ')}`,
  );
  console.log(
    `  single scale + overhead on the same data: MAPE ${pct(f.singleScale.mape)}, within ±5% ${pct(f.singleScale.within5)}, τ ${num(f.singleScale.kendallTau)}; ` +
      `uncalibrated sum + empty model: MAPE ${pct(f.uncalibratedMape)}; fit: ${num(f.model.interceptMs, 4)} ms + ` +
      `${f.model.coefficients.map((c, k) => `${c.toFixed(3)} × ${BLOCK_KINDS[k]}`).join(' + ')} + ${num(f.model.layoutMsPerMelem, 3)} ms per million values converted between layouts + ` +
      `${num(f.model.isolatedMsPerMelem, 3)} ms per million values the blocks converted alone, ` +
      `ridge ${f.model.ridge}, leave-one-out MAPE ${pct(f.model.looMape)}`,
  );
  const b = f.blockLevel;
  console.log(
    `  error sources: repeatability MAPE ${pct(f.repeatability.mape)}, within ±5% ${pct(f.repeatability.within5)}, τ ${num(f.repeatability.kendallTau)} ` +
      `(without the speed reference: MAPE ${pct(f.rawRepeatability.mape)}, within ±5% ${pct(f.rawRepeatability.within5)}; reference ${num(f.referenceMs, 4)} ms); ` +
      `empty model ${num(f.emptyModelMs, 4)} ms, intercept ${num(f.model.interceptMs, 4)} ms` +
      (b
        ? `; interpolation: sum ${pct(b.interpolationSumMape)}, off-grid blocks ${pct(b.interpolationBlockMape)} (${b.offGridBlocks}), on-grid blocks timed twice ${pct(b.onGridBlockMape)}; ` +
          `adjacent pairs: together − alone ${pct(b.pairGapMean)} of the pairs' sum, ${pct(b.pairGapShareOfModel)} of the model; sum of blocks ${pct(b.blockSumShareOfModel)} of the model`
        : '; blocks not timed one by one (--block-configs 0)'),
  );
}

/** Median and range of one figure over the runs. */
function spread(values: readonly (number | null)[]): { median: number | null; min: number | null; max: number | null } {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (!known.length) return { median: null, min: null, max: null };
  const mid = known.length / 2;
  return { median: known.length % 2 ? known[Math.floor(mid)] : (known[mid - 1] + known[mid]) / 2, min: known[0], max: known.at(-1)! };
}

const SUMMARY: readonly [string, (f: RunFigures) => number | null, (v: number | null) => string][] = [
  ['MAPE', (f) => f.mape, pct],
  ['within ±5%', (f) => f.within5, pct],
  ['within ±10%', (f) => f.within10, pct],
  ['Kendall τ', (f) => f.kendallTau, (v) => num(v)],
  ['build time (s)', (f) => f.buildSeconds, (v) => num(v, 0)],
  ['single-scale fit: MAPE', (f) => f.singleScale.mape, pct],
  ['single-scale fit: within ±5%', (f) => f.singleScale.within5, pct],
  ['single-scale fit: τ', (f) => f.singleScale.kendallTau, (v) => num(v)],
  ['repeatability: MAPE', (f) => f.repeatability.mape, pct],
  ['repeatability: within ±5%', (f) => f.repeatability.within5, pct],
  ['without the speed reference: repeatability MAPE', (f) => f.rawRepeatability.mape, pct],
  ['without the speed reference: repeatability within ±5%', (f) => f.rawRepeatability.within5, pct],
  ['speed reference (ms)', (f) => f.referenceMs, (v) => num(v, 4)],
  ['empty model (ms)', (f) => f.emptyModelMs, (v) => num(v, 4)],
  ['fit intercept (ms)', (f) => f.model.interceptMs, (v) => num(v, 4)],
  ['fit: ms per million values converted between layouts', (f) => f.model.layoutMsPerMelem, (v) => num(v, 3)],
  ['fit: ms per million values the blocks converted alone', (f) => f.model.isolatedMsPerMelem, (v) => num(v, 3)],
  ['interpolation: sum error', (f) => f.blockLevel?.interpolationSumMape ?? null, pct],
  ['interpolation: off-grid block error', (f) => f.blockLevel?.interpolationBlockMape ?? null, pct],
  ['on-grid block timed twice: error', (f) => f.blockLevel?.onGridBlockMape ?? null, pct],
  ['adjacent pairs: gap / their sum alone', (f) => f.blockLevel?.pairGapMean ?? null, pct],
  ['adjacent pairs: gap / model', (f) => f.blockLevel?.pairGapShareOfModel ?? null, pct],
  ['sum of blocks / model', (f) => f.blockLevel?.blockSumShareOfModel ?? null, pct],
];

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const runs = Number(values.runs);
  const results: Record<string, RunFigures[]> = {};
  for (const name of scaleNames) {
    results[name] = [];
    for (let run = 1; run <= runs; run++) {
      const figures = await runOnce(name, SCALES[name as keyof typeof SCALES], run);
      results[name].push(figures);
      printRun(name, figures);
    }
  }
  console.log(`\ndevice: ${device.cpuModel} ×${device.cores}, ${threads} thread(s), ${device.os}, affinity ${device.affinity}; batch ${values.batch}; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log(`| median [min – max] over ${runs} run(s) | ${scaleNames.join(' | ')} |`);
  console.log(`|---|${scaleNames.map(() => '---').join('|')}|`);
  for (const [label, get, format] of SUMMARY) {
    const cells = scaleNames.map((name) => {
      const s = spread(results[name].map(get));
      return runs > 1 ? `${format(s.median)} [${format(s.min)} – ${format(s.max)}]` : format(s.median);
    });
    console.log(`| ${label} | ${cells.join(' | ')} |`);
  }
  console.log(
    JSON.stringify({
      bench: 'latency.table',
      device: { cpuModel: device.cpuModel, cores: device.cores, threads, affinity: device.affinity, versions: device.versions },
      batchSize: Number(values.batch),
      scales: Object.fromEntries(
        scaleNames.map((name) => {
          const scale = SCALES[name as keyof typeof SCALES];
          const space = resolveSearchSpace({
            architecture: scale.architecture,
            inputSize: scale.inputSize,
            numClasses: scale.numClasses,
            maxChannels: defaultChannels(scale.architecture, scale.width, scale),
            groups: 12,
            divisor: 8,
            unitOverrides: {},
          });
          return [
            name,
            {
              ...scale,
              units: space.table.units.length,
              summary: Object.fromEntries(SUMMARY.map(([label, get]) => [label, spread(results[name].map(get))])),
              runs: results[name],
            },
          ];
        }),
      ),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg(),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
