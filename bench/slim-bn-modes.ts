/**
 * The BN-mode part of bench/slim.ts: what scoring one proposal of mbv2-fmnist 1.0x on a batch of
 * 2048 costs in each BN mode of the SLIM job, beside folded inference of the same configuration,
 * measured with the job's own scoring code (executors/onnx/config-scoring.ts); and, unless
 * `walkSteps` is 0, whether recalibrating on fewer images changes the walk's first choices (the
 * real SLIM job on the Fashion-MNIST hold-out, random weights unless a checkpoint is given).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildGraph, channelsFromUnitWidths, defaultChannels, parseChannelList, profileCost, type ChannelList, type NetworkOptions } from '../autoslim';
import type { ExecutorEvent, JobContext, SlimmingStepReport } from '../executors/contract';
import { buildModel, labelledImages, randomWeights } from '../executors/onnx';
import { ConfigScoring, type BnMode } from '../executors/onnx/config-scoring';
import { EvaluationCache } from '../executors/onnx/evaluation-cache';
import { CALIBRATION_BATCH, type CalibrationImages, type ScoringBatch } from '../executors/onnx/evaluation-data';
import { createEvaluator } from '../executors/onnx/evaluator';
import { MetricsSession, type LabelledImages } from '../executors/onnx/session';
import { OnnxSlimmingPlugin, type SlimPayload } from '../executors/onnx/slim-plugin';
import { Rng } from '../executors/rng';
import { resolveSearchSpace, type ResolvedSearchSpace, type SearchSpaceSpec } from '../executors/search-space';
import { decodeSafetensors, encodeSafetensors, type WeightMap } from '../executors/weights';
import { round } from './numbers';

const ARCH = 'mbv2-fmnist';
const OPTS: NetworkOptions = { inputSize: 28, numClasses: 10 };
const BATCH = 2048;
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
/** Where the walk stops: a few steps below the widest configuration. */
const WALK_TARGET = 0.9;

export interface BnModesBenchOptions {
  readonly threads: number;
  readonly runs: number;
  /** Proposals scored per mode and run. */
  readonly proposals: number;
  /** RECALIBRATED is measured at each of these calibration sizes; the largest is the walk's reference. */
  readonly calibrationImages: readonly number[];
  /** Steps of the walk compared across modes; 0 skips it. */
  readonly walkSteps: number;
  readonly checkpoint: string | null;
}

/** Median and range of images per second over the runs. */
interface Throughput {
  readonly imagesPerS: number;
  readonly min: number;
  readonly max: number;
}

export async function bnModesBench(options: BnModesBenchOptions) {
  const structure = parseChannelList(ARCH, defaultChannels(ARCH, 1.0, OPTS), OPTS);
  const spec: SearchSpaceSpec = { architecture: ARCH, ...OPTS, maxChannels: structure, groups: 4, divisor: 8, unitOverrides: {} };
  const space = resolveSearchSpace(spec);
  const weights = options.checkpoint ? decodeSafetensors(readFileSync(options.checkpoint)).tensors : randomWeights(buildGraph(ARCH, structure, OPTS), 7);
  const loadBefore = loadavg();
  const cost = options.runs > 0 ? await proposalCost(space, weights, options) : null;
  const loadAfter = loadavg();
  const walk = options.walkSteps > 0 ? await walkChoices(spec, weights, options) : null;
  return {
    architecture: `${ARCH} 1.0x, ${space.table.units.length} units of 4 groups`,
    batch: BATCH,
    threads: options.threads,
    runs: options.runs,
    proposals_per_run: options.proposals,
    weights: options.checkpoint ?? 'random',
    load_average: { before: loadBefore.map((l) => round(l, 2)), after: loadAfter.map((l) => round(l, 2)) },
    ...(cost ?? {}),
    ...(walk && { walk }),
  };
}

/**
 * Per run: each mode scores `proposals` fresh proposals (the widest configuration with one unit
 * cut by a group, as the walk's first step proposes) in one call, as the walk scores a step's
 * proposals, after its sessions are opened and warmed up;
 * folded inference runs each proposal in a warm session of its own. Runs interleave the modes, so
 * load from other processes hits all of them alike.
 */
async function proposalCost(space: ResolvedSearchSpace, weights: WeightMap, options: BnModesBenchOptions) {
  const evaluator = await createEvaluator({ provider: 'cpu', threads: options.threads });
  const input = { channels: 1, height: 28, width: 28 };
  const batch: ScoringBatch = { images: randomImages(input, BATCH, 3), digest: 'bench', seed: 0 };
  const maxCalibration = Math.max(...options.calibrationImages);
  const calibrationPixels = randomImages(input, maxCalibration, 4).images;
  const macsOf = profileCost(space.table, 'macs');
  const modes: { name: string; mode: BnMode; calibration: CalibrationImages | null }[] = [
    { name: 'BATCH_STATS', mode: 'BATCH_STATS', calibration: null },
    ...options.calibrationImages.map((n) => ({ name: `RECALIBRATED on ${n}`, mode: 'RECALIBRATED' as const, calibration: calibrationOf(calibrationPixels, input, n) })),
  ];
  const seconds: Record<string, number[]> = Object.fromEntries(['folded', ...modes.map((m) => m.name)].map((name) => [name, []]));
  const units = space.table.units.length;
  for (let run = 0; run < options.runs; run++) {
    const proposals = Array.from({ length: options.proposals }, (_, i) => proposal(space, (run * options.proposals + i) % units));
    let folded = 0;
    for (const channels of proposals) {
      const graph = buildGraph(space.architecture, channels, space.options, space.structure);
      const session = await MetricsSession.open(buildModel(graph, weights, { batchNorm: 'folded', head: 'metrics', masked: false }), evaluator);
      await session.warmUp(graph.input, BATCH);
      const started = performance.now();
      await session.run(batch.images, BATCH);
      folded += (performance.now() - started) / 1000;
      await session.release();
    }
    seconds.folded!.push(folded / proposals.length);
    for (const { name, mode, calibration } of modes) {
      const scoring = new ConfigScoring({
        evaluator,
        space,
        weights,
        checkpointSha256: 'bench',
        batchSizes: mode === 'BATCH_STATS' ? [BATCH] : [],
        calibration,
        cache: new EvaluationCache(null),
        macsOf,
      });
      await scoring.fit(space.structure);
      const started = performance.now();
      await scoring.scoreEach(proposals, mode, [batch], new AbortController().signal);
      seconds[name]!.push((performance.now() - started) / 1000 / proposals.length);
      await scoring.release();
    }
    console.log(`BN modes, run ${run + 1}/${options.runs}: ${Object.entries(seconds).map(([name, s]) => `${name} ${round(BATCH / s.at(-1)!)} images/s`).join(', ')}; load ${loadavg()[0]!.toFixed(2)}`);
  }
  const folded = throughput(seconds.folded!);
  const byMode = Object.fromEntries(
    modes.map(({ name }) => {
      const t = throughput(seconds[name]!);
      return [name, { ...t, overhead_vs_folded: round(folded.imagesPerS / t.imagesPerS - 1, 3) }];
    }),
  );
  return { folded_images_per_s: folded, modes_images_per_s: byMode };
}

/** The widest configuration with `unit` cut by one group. */
function proposal(space: ResolvedSearchSpace, unit: number): ChannelList {
  const widths = space.table.units.map((u, i) => (i === unit ? u.choices[u.choices.length - 2]! : u.max));
  return channelsFromUnitWidths(space.table, widths);
}

function throughput(seconds: readonly number[]): Throughput {
  const rates = seconds.map((s) => BATCH / s).sort((a, b) => a - b);
  return { imagesPerS: round(rates[Math.floor(rates.length / 2)]!), min: round(rates[0]!), max: round(rates.at(-1)!) };
}

function randomImages(input: { channels: number; height: number; width: number }, count: number, seed: number): LabelledImages {
  const rng = new Rng(seed);
  const images = Float32Array.from({ length: count * input.channels * input.height * input.width }, () => 2 * rng.nextFloat() - 1);
  const labels = Int32Array.from({ length: count }, () => Math.floor(rng.nextFloat() * OPTS.numClasses));
  return labelledImages(images, labels, input);
}

/** The first `count` images in batches of CALIBRATION_BATCH, as the job reads them. */
function calibrationOf(pixels: Float32Array, input: { channels: number; height: number; width: number }, count: number): CalibrationImages {
  const perImage = input.channels * input.height * input.width;
  const batches = [];
  for (let start = 0; start < count; start += CALIBRATION_BATCH) {
    const n = Math.min(CALIBRATION_BATCH, count - start);
    batches.push({ images: pixels.subarray(start * perImage, (start + n) * perImage), count: n });
  }
  return { batches, images: count, seed: 0, digest: `bench-${count}` };
}

/**
 * The first `walkSteps` steps of the SLIM job in each mode on the Fashion-MNIST hold-out (a
 * synthetic set without it): the unit each step slims, and whether each mode's walk stays the one
 * recalibration on the most images takes.
 */
async function walkChoices(spec: SearchSpaceSpec, weights: WeightMap, options: BnModesBenchOptions) {
  const { table } = resolveSearchSpace(spec);
  const macs = profileCost(table, 'macs');
  const checkpoint = encodeSafetensors(weights);
  const dataset = existsSync(FASHION_MNIST)
    ? { format: 'IDX' as const, uri: FASHION_MNIST, inputChannels: 1, inputHeight: 28, numClasses: 10, trainSize: 60_000, testSize: 10_000, searchFraction: 0.1, splitSeed: 0 }
    : { format: 'SYNTHETIC' as const, uri: 'synthetic:', inputChannels: 1, inputHeight: 28, numClasses: 10, trainSize: 20_000, testSize: 1_000, searchFraction: 0.25, splitSeed: 0 };
  const reference = Math.max(...options.calibrationImages);
  const modes: { name: string; settings: Partial<SlimPayload> }[] = [
    { name: 'BATCH_STATS', settings: { bnMode: 'BATCH_STATS' } },
    ...[...options.calibrationImages].sort((a, b) => b - a).map((n) => ({ name: `RECALIBRATED on ${n}`, settings: { bnMode: 'RECALIBRATED' as const, calibrationImages: n } })),
  ];
  const walks: Record<string, { units: (number | null)[]; margins_pts: number[]; seconds_per_evaluation: number; evaluations: number }> = {};
  for (const { name, settings } of modes) {
    const steps: SlimmingStepReport[] = [];
    const plugin = new OnnxSlimmingPlugin({ provider: 'cpu', threads: options.threads, cacheFile: null });
    const payload: SlimPayload = {
      trajectoryId: 'bench',
      searchSpace: spec,
      dataset: { ...dataset, id: 'bench' },
      checkpoint: { uri: 'memory:', sha256: 'bench' },
      constraint: 'MACS',
      targets: [WALK_TARGET * macs(table.structure)],
      evalBatchSize: BATCH,
      evalSeed: 0,
      bnMode: 'BATCH_STATS',
      scoring: 'ACCURACY',
      ...settings,
    };
    const result = (await plugin.run({ id: 'bench', kind: 'SLIM', attempt: 1, payload, resumeState: null }, stopAfter(options.walkSteps, checkpoint, steps)).catch(
      (error: unknown) => (error instanceof StopWalk ? error.result : Promise.reject(error)),
    )) as { evaluations: number; evalSeconds: number };
    walks[name] = {
      units: steps.slice(1).map((s) => s.unitIndex),
      margins_pts: steps.slice(1).map(margin),
      evaluations: result.evaluations,
      seconds_per_evaluation: round(result.evalSeconds / Math.max(1, result.evaluations), 3),
    };
    console.log(`walk, ${name}: units ${walks[name]!.units.join(' → ')}; lead over the runner-up ${walks[name]!.margins_pts.join(', ')} pts`);
  }
  const referenceUnits = walks[`RECALIBRATED on ${reference}`]!.units;
  const agreement = Object.fromEntries(
    Object.entries(walks).map(([name, w]) => {
      const diverges = w.units.findIndex((u, i) => u !== referenceUnits[i]);
      return [name, diverges < 0 ? 'same steps' : `first differs at step ${diverges + 1}`];
    }),
  );
  return {
    data: dataset.format === 'IDX' ? 'fashion-mnist search hold-out' : 'synthetic',
    steps: options.walkSteps,
    reference: `RECALIBRATED on ${reference}`,
    walks,
    agreement_with_reference: agreement,
  };
}

/**
 * How far the step's choice led the best other proposal, in accuracy points: a walk that leaves
 * another at a step of a small lead is reordering near-ties, not choosing differently.
 */
function margin(step: SlimmingStepReport): number {
  const chosen = step.proposals.find((p) => p.unitIndex === step.unitIndex);
  const others = step.proposals.filter((p) => p !== chosen && !p.screenedOut).map((p) => p.accuracy);
  if (!chosen || others.length === 0) return Number.NaN;
  return round(100 * (chosen.accuracy - Math.max(...others)), 2);
}

class StopWalk extends Error {
  constructor(readonly result: { evaluations: number; evalSeconds: number }) {
    super('the bench has seen enough steps');
  }
}

/** A job context that keeps everything in memory and ends the walk after `steps` slimming steps. */
function stopAfter(steps: number, checkpoint: Buffer, reports: SlimmingStepReport[]): JobContext {
  let stats = { evaluations: 0, evalSeconds: 0 };
  return {
    signal: new AbortController().signal,
    progress: async () => {
      if (reports.length > steps) throw new StopWalk(stats);
    },
    report: async (event: ExecutorEvent) => {
      if (event.type === 'slimmingStep') reports.push(event.step);
      if (event.type === 'evaluationStats') stats = { evaluations: event.evaluations, evalSeconds: event.evalSeconds };
    },
    saveState: async () => undefined,
    artifacts: { put: async () => Promise.reject(new Error('the bench stores nothing')), read: async () => checkpoint },
    log: { info: () => undefined, warn: (m) => console.warn(m) },
  };
}
