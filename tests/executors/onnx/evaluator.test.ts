import { createEvaluator, labelledImages, randomWeights } from '../../../executors/onnx';
import { randomImages, randomLabels } from './run-model';
import { tinyGraph } from './tiny-graph';

const supernet = tinyGraph(8, 12);
const weights = randomWeights(supernet, 5);
const data = labelledImages(randomImages(40, 3 * 8 * 8, 6), randomLabels(40, 7, 7), supernet.input);

describe('createEvaluator', () => {
  it('falls back to CPU when CUDA cannot load, and says so', async () => {
    const evaluator = await createEvaluator({ provider: 'cuda', threads: 1 });
    // On a machine with the CUDA provider installed this takes the other branch; both must be consistent.
    if (evaluator.provider === 'cpu') expect(evaluator.note).toMatch(/CUDA execution provider unavailable, ran on CPU/);
    else expect(evaluator.note).toBeUndefined();
    expect(evaluator.capabilities).toMatchObject({ backend: `onnxruntime-${evaluator.provider}`, provider: evaluator.provider });
    expect(evaluator.capabilities.note).toBe(evaluator.note);
    const result = await evaluator.evaluate({ graph: supernet, weights, batchNorm: 'folded' }, data, 16);
    expect(result.count).toBe(40);
  });

  it('reports CPU without a note when CPU is asked for', async () => {
    const evaluator = await createEvaluator({ provider: 'cpu', threads: 2 });
    expect(evaluator).toMatchObject({ provider: 'cpu', threads: 2 });
    expect(evaluator.note).toBeUndefined();
    expect(evaluator.capabilities).toMatchObject({ backend: 'onnxruntime-cpu', provider: 'cpu', versions: { 'onnxruntime-node': '1.30.0' } });
  });

  it('evaluates a configuration identically in its own session and in the masked supernet session', async () => {
    const evaluator = await createEvaluator({ provider: 'cpu', threads: 1 });
    const supernetSession = await evaluator.openSupernet(supernet, weights, 'batch', 20);
    for (const config of [tinyGraph(8, 12), tinyGraph(3, 5)]) {
      const alone = await evaluator.evaluate({ graph: config, weights, batchNorm: 'batch' }, data, 20);
      const masked = await supernetSession.evaluate(config, data);
      expect(masked.top1).toBe(alone.top1);
      expect(masked.top5).toBe(alone.top5);
      expect(masked.loss).toBeCloseTo(alone.loss, 3);
      expect(alone.top5).toBeGreaterThanOrEqual(alone.top1);
    }
    await supernetSession.release();
  });

  it('evaluates configurations together exactly as each in a session of its own, in every BN mode', async () => {
    const evaluator = await createEvaluator({ provider: 'cpu', threads: 1 });
    const configs = [tinyGraph(8, 12), tinyGraph(3, 5), tinyGraph(5, 12)].map((graph) => ({ graph, weights }));
    const halves = [labelledImages(data.images.subarray(0, 20 * 192), Array.from(data.labels.subarray(0, 20), Number), supernet.input), data];
    for (const batchNorm of ['folded', 'running', 'batch'] as const) {
      const together = await evaluator.evaluateTogether(configs, batchNorm, halves, 16);
      expect(together).toHaveLength(3);
      for (const [i, config] of configs.entries()) {
        const alone = await evaluator.evaluateEach({ ...config, batchNorm }, halves, 16);
        expect(together[i]!.map((r) => [r.top1, r.top5, r.count])).toEqual(alone.map((r) => [r.top1, r.top5, r.count]));
        together[i]!.forEach((r, k) => expect(r.loss).toBeCloseTo(alone[k]!.loss, 4));
      }
      // The configurations differ, so a head reading another's outputs would show.
      expect(new Set(together.map((r) => r[1]!.loss.toFixed(4))).size).toBe(3);
    }
  });

  it('refuses to evaluate together configurations that read different images', async () => {
    const evaluator = await createEvaluator({ provider: 'cpu', threads: 1 });
    const other = { ...tinyGraph(3, 5), input: { channels: 1, height: 8, width: 8 } };
    await expect(evaluator.evaluateTogether([{ graph: supernet, weights }, { graph: other, weights }], 'folded', [data], 16)).rejects.toThrow(
      /joint model: configuration 1 reads 1×8×8 images, the first 3×8×8/,
    );
    await expect(evaluator.evaluateTogether([], 'folded', [data], 16)).rejects.toThrow(/joint model: needs at least one configuration/);
  });

  it('rejects bad input with the field and the rule', async () => {
    expect(() => labelledImages(new Float32Array(10), [1], supernet.input)).toThrow(/images: must hold labels.length × 192 values/);
    expect(() => labelledImages(new Float32Array(192), [1.5], supernet.input)).toThrow(/labels\[0\]: must be a class index/);
    await expect(createEvaluator({ provider: 'cpu', threads: 0 })).rejects.toThrow(/threads: must be a positive integer/);
  });
});
