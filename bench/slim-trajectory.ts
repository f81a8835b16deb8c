/**
 * The trajectory part of bench/slim.ts: one full greedy walk of an mbv2-fmnist supernet, from the
 * widest to the narrowest configuration, run by the real SLIM executor (OnnxSlimmingPlugin with a
 * JobContext that keeps everything in memory), with the savings on; and the plain
 * export-and-evaluate loop (a model built, a session opened and run per configuration) timed on the
 * proposals of sampled steps of the same walk, which also tells whether screening picked the
 * winner full evaluation would have.
 */
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { buildGraph, channelsFromUnitWidths, defaultChannels, parseChannelList, profileCost, unitWidthsOf, type NetworkOptions } from '../autoslim';
import type { ExecutorEvent, JobContext, SlimmingStepReport } from '../executors/contract';
import { DEFAULT_TRANSFORMS, loaderSettings, openDataset, type Batch } from '../executors/data/loader';
import type { DatasetSpec } from '../executors/data/source';
import { buildModel, labelledImages, randomWeights } from '../executors/onnx';
import { MetricsSession } from '../executors/onnx/session';
import { OnnxSlimmingPlugin, type SlimPayload } from '../executors/onnx/slim-plugin';
import { Rng } from '../executors/rng';
import { resolveSearchSpace, type SearchSpaceSpec } from '../executors/search-space';
import { decodeSafetensors, encodeSafetensors, type WeightMap } from '../executors/weights';

const ARCH = 'mbv2-fmnist';
const OPTS: NetworkOptions = { inputSize: 28, numClasses: 10 };
const INPUT = { channels: 1, height: 28, width: 28 };
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

export interface TrajectoryBenchOptions {
  readonly threads: number;
  readonly width: number;
  readonly groups: number;
  readonly batch: number;
  readonly screenBatch: number;
  readonly screenKeep: number;
  /** Time the plain loop on every n-th slimming step. */
  readonly plainEvery: number;
  /** A supernet checkpoint (safetensors) of the same width; random weights without one. */
  readonly checkpoint: string | null;
}

function datasetSpec(): DatasetSpec {
  if (existsSync(FASHION_MNIST)) {
    return { format: 'IDX', uri: FASHION_MNIST, inputChannels: 1, inputHeight: 28, numClasses: 10, trainSize: 60_000, testSize: 10_000, searchFraction: 0.1, splitSeed: 0 };
  }
  return { format: 'SYNTHETIC', uri: 'synthetic:', inputChannels: 1, inputHeight: 28, numClasses: 10, trainSize: 20_000, testSize: 1_000, searchFraction: 0.25, splitSeed: 0 };
}

function memoryContext(checkpoint: Buffer, steps: SlimmingStepReport[]): JobContext {
  return {
    signal: new AbortController().signal,
    progress: async () => undefined,
    report: async (event: ExecutorEvent) => {
      if (event.type === 'slimmingStep') steps.push(event.step);
    },
    saveState: async () => undefined,
    artifacts: { put: async () => Promise.reject(new Error('the bench stores nothing')), read: async () => checkpoint },
    log: { info: () => undefined, warn: (m) => console.warn(m) },
  };
}

export async function trajectoryBench(options: TrajectoryBenchOptions) {
  const structure = parseChannelList(ARCH, defaultChannels(ARCH, options.width, OPTS), OPTS);
  const space: SearchSpaceSpec = { architecture: ARCH, ...OPTS, maxChannels: structure, groups: options.groups, divisor: 8, unitOverrides: {} };
  const { table } = resolveSearchSpace(space);
  const weights: WeightMap = options.checkpoint
    ? decodeSafetensors(readFileSync(options.checkpoint)).tensors
    : randomWeights(buildGraph(ARCH, structure, OPTS), 7);
  const checkpoint = encodeSafetensors(weights);
  const dataset = datasetSpec();
  const macs = profileCost(table, 'macs');
  const narrowest = macs(channelsFromUnitWidths(table, table.units.map((u) => u.choices[0]!)));
  const payload: SlimPayload = {
    trajectoryId: 'bench',
    searchSpace: space,
    dataset: { ...dataset, id: 'bench' },
    checkpoint: { uri: 'memory:', sha256: 'bench' },
    constraint: 'MACS',
    targets: [narrowest],
    evalBatchSize: options.batch,
    evalSeed: 0,
    bnMode: 'BATCH_STATS',
    scoring: 'ACCURACY',
    screening: { batch: options.screenBatch, keep: options.screenKeep },
  };
  const steps: SlimmingStepReport[] = [];
  const plugin = new OnnxSlimmingPlugin({ provider: 'cpu', threads: options.threads, cacheFile: null });
  await plugin.probe();
  const started = performance.now();
  const result = (await plugin.run({ id: 'bench', kind: 'SLIM', attempt: 1, payload, resumeState: null }, memoryContext(checkpoint, steps))) as {
    evaluations: number;
    evalSeconds: number;
  };
  const trajectorySeconds = (performance.now() - started) / 1000;
  const proposals = steps.reduce((n, s) => n + s.proposals.length, 0) + 1;

  // The plain loop on sampled steps: every proposal of the step built, opened and run on its own.
  const batch = await evaluationBatch(payload);
  const images = labelledImages(batch.images, batch.labels, INPUT);
  const settings = { provider: 'cpu' as const, threads: options.threads };
  const sampled = steps.filter((s) => s.index > 0 && s.index % options.plainEvery === 1);
  let plainSeconds = 0;
  let plainEvaluations = 0;
  let agreements = 0;
  for (const step of sampled) {
    const previous = steps[step.index - 1]!;
    let best = { unitIndex: -1, accuracy: -1 };
    for (const proposal of step.proposals) {
      const current = unitWidthsOf(table, parseChannelList(ARCH, previous.channels, OPTS, structure));
      const widths = current.map((w, i) => (i === proposal.unitIndex ? table.units[i]!.choices[table.units[i]!.choices.indexOf(w) - 1]! : w));
      const channels = channelsFromUnitWidths(table, widths);
      const t0 = performance.now();
      const graph = buildGraph(ARCH, channels, OPTS, structure);
      const session = await MetricsSession.open(buildModel(graph, weights, { batchNorm: 'batch', head: 'metrics', masked: false }), settings);
      const scored = await session.run(images, options.batch);
      await session.release();
      plainSeconds += (performance.now() - t0) / 1000;
      plainEvaluations++;
      const accuracy = scored.top1 / scored.count;
      if (accuracy > best.accuracy) best = { unitIndex: proposal.unitIndex, accuracy };
    }
    if (best.unitIndex === step.unitIndex) agreements++;
  }

  const plainPerEvaluation = plainSeconds / Math.max(1, plainEvaluations);
  return {
    supernet: `${ARCH} ${options.width}x, ${options.groups} groups per unit, ${table.units.length} units`,
    weights: options.checkpoint ?? 'random (pass --checkpoint for a trained supernet)',
    data: dataset.format === 'IDX' ? 'fashion-mnist search hold-out' : 'synthetic',
    eval_batch: options.batch,
    screening: { batch: options.screenBatch, keep: options.screenKeep },
    steps: steps.length,
    proposals,
    evaluations: result.evaluations,
    eval_seconds: round(result.evalSeconds),
    trajectory_seconds: round(trajectorySeconds),
    plain_seconds_per_evaluation: round(plainPerEvaluation, 3),
    plain_sampled_steps: sampled.length,
    plain_sampled_evaluations: plainEvaluations,
    trajectory_seconds_plain: round(plainPerEvaluation * proposals),
    screening_agreed_with_full_evaluation: `${agreements}/${sampled.length} sampled steps`,
    speedup: round((plainPerEvaluation * proposals) / trajectorySeconds, 2),
  };
}

/** The seeded batch of the search hold-out that the SLIM job evaluates on, read as the job reads it. */
async function evaluationBatch(payload: SlimPayload): Promise<Batch> {
  // The bench's dataset spec has no manifest, so the loader makes one and never reads a blob.
  const noBlobs = () => Promise.reject(new Error('the bench dataset has no stored manifest'));
  const data = await openDataset(payload.dataset, INPUT, DEFAULT_TRANSFORMS, loaderSettings(), noBlobs, { train: true, test: false });
  try {
    const indices = new Rng(payload.evalSeed >>> 0).permutation(data.search.count).slice(0, payload.evalBatchSize);
    let batch: Batch | null = null;
    for await (const b of data.search.batches(indices, payload.evalBatchSize)) batch = b;
    return batch!;
  } finally {
    await data.close();
  }
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
