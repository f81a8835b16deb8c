import { buildGraph, channelsFromUnitWidths, defaultChannels, parseChannelList, profileCost, type ChannelList } from '../../../autoslim';
import { createEvaluator, labelledImages, randomWeights, type OnnxEvaluator } from '../../../executors/onnx';
import { ConfigScoring, type BnMode, type Scored } from '../../../executors/onnx/config-scoring';
import { EvaluationCache } from '../../../executors/onnx/evaluation-cache';
import type { ScoringBatch } from '../../../executors/onnx/evaluation-data';
import { resolveSearchSpace } from '../../../executors/search-space';
import { randomImages, randomLabels } from './run-model';

const OPTS = { inputSize: 8, numClasses: 4 };
const structure = parseChannelList('mbv2-fmnist', defaultChannels('mbv2-fmnist', 0.5, OPTS), OPTS);
const space = resolveSearchSpace({ architecture: 'mbv2-fmnist', ...OPTS, maxChannels: structure, groups: 2, divisor: 4, unitOverrides: {} });
const weights = randomWeights(buildGraph('mbv2-fmnist', structure, OPTS), 3);
const input = { channels: 1, height: 8, width: 8 };
const batches: ScoringBatch[] = [0, 1].map((seed) => ({ images: labelledImages(randomImages(24, 64, 10 + seed), randomLabels(24, 4, 20 + seed), input), digest: 'test', seed }));
const calibration = { batches: [{ images: randomImages(40, 64, 30), count: 40 }], images: 40, seed: 0, digest: 'calibration' };
/** The widest configuration, and two with one unit narrowed, as a walk's step proposes them. */
const configs: ChannelList[] = [null, 0, 2].map((unit) =>
  channelsFromUnitWidths(space.table, space.table.units.map((u, i) => (i === unit ? u.choices[0]! : u.max))),
);

let evaluator: OnnxEvaluator;
beforeAll(async () => {
  evaluator = await createEvaluator({ provider: 'cpu', threads: 1 });
});

async function scoring(): Promise<ConfigScoring> {
  const scoring = new ConfigScoring({
    evaluator,
    space,
    weights,
    checkpointSha256: 'test',
    batchSizes: [24],
    calibration,
    cache: new EvaluationCache(null),
    macsOf: profileCost(space.table, 'macs'),
  });
  await scoring.fit(structure);
  return scoring;
}

describe('ConfigScoring.scoreEach', () => {
  it.each<BnMode>(['RECALIBRATED', 'BATCH_STATS'])('scores configurations together as it scores each alone (%s)', async (mode) => {
    const signal = new AbortController().signal;
    const alone: Scored[] = [];
    for (const channels of configs) {
      const own = await scoring();
      alone.push(await own.score(channels, mode, batches, signal));
      await own.release();
    }
    const shared = await scoring();
    const together = await shared.scoreEach(configs, mode, batches, signal);
    await shared.release();
    expect(together.map((s) => [s.top1, s.images, s.evaluations, s.cacheHits])).toEqual(alone.map((s) => [s.top1, s.images, 2, 0]));
    together.forEach((s, i) => expect(s.loss).toBeCloseTo(alone[i]!.loss, 3));
    expect(new Set(together.map((s) => s.loss.toFixed(3))).size).toBe(3);
  });

  it('takes what the cache holds and evaluates only the rest', async () => {
    const signal = new AbortController().signal;
    const shared = await scoring();
    const first = await shared.score(configs[1]!, 'RECALIBRATED', batches.slice(0, 1), signal);
    const [cached, fresh] = await shared.scoreEach([configs[1]!, configs[2]!], 'RECALIBRATED', batches, signal);
    await shared.release();
    expect(first).toMatchObject({ evaluations: 1, cacheHits: 0, images: 24 });
    // The first batch of configs[1] came from the cache; its second was evaluated beside configs[2].
    expect(cached).toMatchObject({ evaluations: 1, cacheHits: 1, images: 48 });
    expect(fresh).toMatchObject({ evaluations: 2, cacheHits: 0, images: 48 });
    const own = await scoring();
    const reference = await own.score(configs[1]!, 'RECALIBRATED', batches, signal);
    await own.release();
    expect(cached!.top1).toBe(reference.top1);
    expect(cached!.loss).toBeCloseTo(reference.loss, 3);
  });
});
