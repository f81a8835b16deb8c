import * as ort from 'onnxruntime-node';
import { buildModel, channelMasks, exportStandalone, randomWeights } from '../../../executors/onnx';
import { maxAbsDifference, randomImages, randomLabels, runOutput } from './run-model';
import { tinyGraph } from './tiny-graph';

const COUNT = 32;
const CLASSES = 7;
const supernet = tinyGraph(8, 12);
const weights = randomWeights(supernet, 1);
const config = tinyGraph(5, 7);
const images = randomImages(COUNT, 3 * 8 * 8, 2);
const labels = randomLabels(COUNT, CLASSES, 3);
const input = new ort.Tensor('float32', images, [COUNT, 3, 8, 8]);

function maskFeeds(masks: Record<string, Float32Array>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(masks).map(([name, m]) => [name, new ort.Tensor('float32', m, [1, m.length, 1, 1])]));
}

/** Top-1, top-5 and summed cross-entropy computed in JS from a row-major [count, classes] block. */
function scoreLogits(logits: Float32Array): { top1: number; top5: number; loss: number } {
  let top1 = 0;
  let top5 = 0;
  let loss = 0;
  for (let n = 0; n < COUNT; n++) {
    const row = Array.from(logits.subarray(n * CLASSES, (n + 1) * CLASSES));
    const target = row[labels[n]];
    const higher = row.filter((v) => v > target).length;
    if (higher === 0) top1++;
    if (higher < 5) top5++;
    const max = Math.max(...row);
    loss += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - target;
  }
  return { top1, top5, loss };
}

describe('ONNX models of a configuration', () => {
  it('gives the same logits with folded and with kept running-statistics BN', async () => {
    const folded = await runOutput(exportStandalone(config, weights, 'folded'), { input }, 'logits');
    const kept = await runOutput(exportStandalone(config, weights, 'running'), { input }, 'logits');
    expect(folded).toHaveLength(COUNT * CLASSES);
    expect(maxAbsDifference(folded, kept)).toBeLessThan(1e-4);
  });

  it('counts top-1, top-5 and loss in the graph as JS does from the standalone export', async () => {
    const logits = await runOutput(exportStandalone(config, weights, 'running'), { input }, 'logits');
    const expected = scoreLogits(logits);
    const metrics = buildModel(config, weights, { batchNorm: 'running', head: 'metrics', masked: false });
    const feeds = { input, labels: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [COUNT]) };
    const session = await ort.InferenceSession.create(metrics, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const out = await session.run(feeds);
    await session.release();
    expect(out.top1.data[0]).toBe(expected.top1);
    expect(out.top5.data[0]).toBe(expected.top5);
    expect(out.top5.data[0]).toBeGreaterThan(out.top1.data[0] as number);
    expect(Number(out.loss.data[0])).toBeCloseTo(expected.loss, 3);
  });

  it.each(['batch', 'running', 'folded'] as const)('computes the sliced config with the masked max-width graph (%s BN)', async (batchNorm) => {
    const sliced = await runOutput(buildModel(config, weights, { batchNorm, head: 'logits', masked: false }), { input }, 'logits');
    const masked = await runOutput(
      buildModel(supernet, weights, { batchNorm, head: 'logits', masked: true }),
      { input, ...maskFeeds(channelMasks(supernet, config)) },
      'logits',
    );
    expect(maxAbsDifference(sliced, masked)).toBeLessThan(1e-4);
  });

  it('differs from the max-width logits when masks select a narrower config', async () => {
    const full = await runOutput(buildModel(supernet, weights, { batchNorm: 'batch', head: 'logits', masked: false }), { input }, 'logits');
    const narrow = await runOutput(buildModel(config, weights, { batchNorm: 'batch', head: 'logits', masked: false }), { input }, 'logits');
    expect(maxAbsDifference(full, narrow)).toBeGreaterThan(1e-2);
  });

  it('rejects a configuration wider than the supernet weights, naming the tensor', () => {
    expect(() => exportStandalone(tinyGraph(9, 12), weights, 'folded')).toThrow(/stem\.weight axis 0 holds 8 entries, the configuration needs 9/);
    expect(() => channelMasks(supernet, tinyGraph(8, 13))).toThrow(/conv head has 13 channels, the supernet only 12/);
  });

  it('rejects missing weights by name', () => {
    const partial = new Map(weights);
    partial.delete('dw.bn.var');
    expect(() => exportStandalone(config, partial, 'running')).toThrow(/tensor dw\.bn\.var is missing/);
  });
});
