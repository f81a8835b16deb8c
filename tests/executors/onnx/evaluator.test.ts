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

  it('rejects bad input with the field and the rule', async () => {
    expect(() => labelledImages(new Float32Array(10), [1], supernet.input)).toThrow(/images: must hold labels.length × 192 values/);
    expect(() => labelledImages(new Float32Array(192), [1.5], supernet.input)).toThrow(/labels\[0\]: must be a class index/);
    await expect(createEvaluator({ provider: 'cpu', threads: 0 })).rejects.toThrow(/threads: must be a positive integer/);
  });
});
