/**
 * Benchmark of AutoSlim's slimming stage on mbv2-fmnist (AUTOSLIM.md §4), evaluation part:
 * ONNX Runtime CPU throughput at batch 2048 with batch-statistics BN (what the search uses) and
 * with folded BN, PyTorch's reference side by side, and the two ways of evaluating many
 * configurations of one supernet (a session per config, or one masked max-width session), and one
 * full greedy trajectory with the savings against the plain export-and-evaluate loop
 * (bench/slim-trajectory.ts); and what a proposal costs in each BN mode of the SLIM job, with the
 * first steps of the walk in each (bench/slim-bn-modes.ts).
 *
 *   npm run bench:slim -- [--threads 2] [--repeats 7] [--trajectory-width 1.0] [--groups 4]
 *     [--screen-batch 256] [--screen-keep 3] [--plain-every 6] [--checkpoint supernet.safetensors]
 *     [--bn-runs 3] [--bn-proposals 3] [--calibration 128,256,512,1024] [--walk-steps 2]
 *   npm run bench:slim -- --quick    only the BN modes' cost per proposal (a few minutes); with
 *     --walk-steps N also the walk's first N choices in each mode; --bn-runs 0 skips the cost
 *
 * The last line printed is one JSON object with every number.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildGraph, defaultChannels, type NetworkGraph, type NetworkOptions } from '../autoslim';
import { buildModel, channelMasks, labelledImages, randomWeights, type BatchNormMode } from '../executors/onnx';
import { Rng } from '../executors/rng';
import { MetricsSession, type LabelledImages } from '../executors/onnx/session';
import type { WeightMap } from '../executors/weights';
import { bnModesBench } from './slim-bn-modes';
import { trajectoryBench } from './slim-trajectory';
import { round } from './numbers';

const ARCH = 'mbv2-fmnist';
const OPTS: NetworkOptions = { inputSize: 28, numClasses: 10 };
const BATCH = 2048;
// npm scripts run at the repository root, which has the shared folder beside it.
const TORCH_SCRIPT = resolve('..', 'shared', 'bench', 'torch_reference.py');
/** PyTorch takes seconds per batch of 2048 here; a few runs give a stable median. */
const TORCH_REPEATS = 3;
const SUPERNET_WIDTH = 1.5;
const CONFIG_WIDTHS = [1.5, 1.0, 0.5];
const REUSE_ROUNDS = 3;

interface Timing {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
}

async function time(repeats: number, work: () => Promise<unknown>): Promise<Timing> {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]);
  return { medianMs: median(samples), p10Ms: at(0.1), p90Ms: at(0.9) };
}

function randomData(graph: NetworkGraph, count: number, seed: number): LabelledImages {
  const rng = new Rng(seed >>> 0);
  const next = () => rng.nextFloat();
  const { channels, height, width } = graph.input;
  const images = new Float32Array(count * channels * height * width);
  for (let i = 0; i < images.length; i++) images[i] = 2 * next() - 1;
  const labels = Int32Array.from({ length: count }, () => Math.floor(next() * OPTS.numClasses));
  return labelledImages(images, labels, graph.input);
}

/** Images per second of one evaluation graph, session opened and warmed up outside the timing. */
async function throughput(graph: NetworkGraph, weights: WeightMap, batchNorm: BatchNormMode, data: LabelledImages, threads: number, repeats: number) {
  const session = await MetricsSession.open(buildModel(graph, weights, { batchNorm, head: 'metrics', masked: false }), { provider: 'cpu', threads });
  await session.warmUp(graph.input, BATCH);
  const timing = await time(repeats, () => session.run(data, BATCH));
  await session.release();
  return { imagesPerS: round((BATCH * 1000) / timing.medianMs), ...timing };
}

/**
 * Design (i): build, open and run a session per configuration; (ii) one masked max-width session
 * opened once. Rounds interleave the two designs so load from other processes hits both alike.
 */
async function sessionReuse(threads: number, data: LabelledImages, rounds: number) {
  const structure = defaultChannels(ARCH, SUPERNET_WIDTH, OPTS);
  const supernet = buildGraph(ARCH, structure, OPTS);
  const weights = randomWeights(supernet, 2);
  const configs = CONFIG_WIDTHS.map((w) => buildGraph(ARCH, defaultChannels(ARCH, w, OPTS), OPTS, structure));
  const settings = { provider: 'cpu' as const, threads };

  const openStart = performance.now();
  const masked = await MetricsSession.open(buildModel(supernet, weights, { batchNorm: 'batch', head: 'metrics', masked: true }), settings);
  await masked.warmUp(supernet.input, BATCH, channelMasks(supernet, supernet));
  const maskedOpenMs = round(performance.now() - openStart);

  const setup: number[][] = configs.map(() => []);
  const perConfig: number[][] = configs.map(() => []);
  const maskedRuns: number[][] = configs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, config] of configs.entries()) {
      const start = performance.now();
      const session = await MetricsSession.open(buildModel(config, weights, { batchNorm: 'batch', head: 'metrics', masked: false }), settings);
      setup[i].push(performance.now() - start);
      await session.run(data, BATCH);
      perConfig[i].push(performance.now() - start);
      await session.release();
      const maskedStart = performance.now();
      await masked.run(data, BATCH, channelMasks(supernet, config));
      maskedRuns[i].push(performance.now() - maskedStart);
    }
  }
  await masked.release();
  const byWidth = (samples: number[][]) => Object.fromEntries(CONFIG_WIDTHS.map((w, i) => [w, median(samples[i])]));
  return {
    supernet_width: SUPERNET_WIDTH,
    rounds,
    per_config_session_ms: byWidth(perConfig),
    per_config_session_setup_ms: byWidth(setup),
    masked_session_open_and_warm_up_ms: maskedOpenMs,
    masked_session_ms: byWidth(maskedRuns),
  };
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.floor(sorted.length / 2)]);
}

function torchReference(threads: number): { imagesPerS: number | null; engine?: string; error?: string } {
  try {
    const args = [TORCH_SCRIPT, '--mode', 'eval', '--batch', String(BATCH), '--threads', String(threads), '--repeats', String(TORCH_REPEATS)];
    const out = execFileSync('/usr/bin/python3', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = JSON.parse(out.trim().split('\n').pop() ?? '') as { images_per_s: number; engine: string };
    return { imagesPerS: round(result.images_per_s), engine: result.engine };
  } catch (error) {
    return { imagesPerS: null, error: (error instanceof Error ? error.message : String(error)).split('\n')[0] };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '2' },
      repeats: { type: 'string', default: '7' },
      'trajectory-width': { type: 'string', default: '1.0' },
      groups: { type: 'string', default: '4' },
      'screen-batch': { type: 'string', default: '256' },
      'screen-keep': { type: 'string', default: '3' },
      'plain-every': { type: 'string', default: '6' },
      checkpoint: { type: 'string' },
      'bn-runs': { type: 'string', default: '3' },
      'bn-proposals': { type: 'string', default: '3' },
      calibration: { type: 'string', default: '128,256,512,1024' },
      'walk-steps': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const threads = Number(values.threads);
  const repeats = Number(values.repeats);
  const bnModes = await bnModesBench({
    threads,
    runs: Number(values['bn-runs']),
    proposals: Number(values['bn-proposals']),
    calibrationImages: values.calibration.split(',').map(Number),
    walkSteps: values['walk-steps'] !== undefined ? Number(values['walk-steps']) : values.quick ? 0 : 2,
    checkpoint: values.checkpoint ?? null,
  });
  if (values.quick) {
    console.log(JSON.stringify({ bench: 'slim-bn-modes', cpu: cpus()[0]?.model, ...bnModes }));
    return;
  }
  const graph = buildGraph(ARCH, defaultChannels(ARCH, 1.0, OPTS), OPTS);
  const weights = randomWeights(graph, 1);
  const data = randomData(graph, BATCH, 3);

  const batchStats = await throughput(graph, weights, 'batch', data, threads, repeats);
  console.log(`ORT cpu, batch-statistics BN, batch ${BATCH}: ${batchStats.imagesPerS} images/s (median ${batchStats.medianMs} ms)`);
  const folded = await throughput(graph, weights, 'folded', data, threads, repeats);
  console.log(`ORT cpu, folded BN, batch ${BATCH}: ${folded.imagesPerS} images/s (median ${folded.medianMs} ms)`);
  const torch = torchReference(threads);
  console.log(`PyTorch reference, batch statistics: ${torch.imagesPerS ?? torch.error} images/s`);
  const reuse = await sessionReuse(threads, data, REUSE_ROUNDS);
  console.log(`session per config (median ms, build+open+run): ${JSON.stringify(reuse.per_config_session_ms)}`);
  console.log(`masked session (median ms per config run): ${JSON.stringify(reuse.masked_session_ms)}, opened and warmed up once in ${reuse.masked_session_open_and_warm_up_ms} ms`);

  const trajectory = await trajectoryBench({
    threads,
    width: Number(values['trajectory-width']),
    groups: Number(values.groups),
    batch: BATCH,
    screenBatch: Number(values['screen-batch']),
    screenKeep: Number(values['screen-keep']),
    plainEvery: Number(values['plain-every']),
    checkpoint: values.checkpoint ?? null,
  });
  console.log(
    `trajectory (${trajectory.supernet}): ${trajectory.steps} steps, ${trajectory.proposals} proposals, ${trajectory.evaluations} evaluations in ${trajectory.trajectory_seconds} s with the savings; ` +
      `the plain loop takes ${trajectory.plain_seconds_per_evaluation} s per proposal → ${trajectory.trajectory_seconds_plain} s (${trajectory.speedup}×); screening agreed with full evaluation on ${trajectory.screening_agreed_with_full_evaluation}`,
  );

  console.log(
    JSON.stringify({
      bench: 'slim-evaluation',
      architecture: `${ARCH} 1.0x`,
      batch: BATCH,
      threads,
      cpu: cpus()[0]?.model,
      ort_images_per_s: batchStats.imagesPerS,
      ort_folded_images_per_s: folded.imagesPerS,
      torch_images_per_s: torch.imagesPerS,
      ...(torch.engine ? { torch_engine: torch.engine } : { torch_error: torch.error }),
      ort_vs_torch: torch.imagesPerS ? round(batchStats.imagesPerS / torch.imagesPerS, 2) : null,
      batch_stat_overhead: round(folded.imagesPerS / batchStats.imagesPerS - 1, 3),
      ort_timing_ms: { batch: batchStats, folded },
      session_reuse: reuse,
      trajectory_seconds: trajectory.trajectory_seconds,
      trajectory_seconds_plain: trajectory.trajectory_seconds_plain,
      evaluations: trajectory.evaluations,
      trajectory,
      bn_modes: bnModes,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
