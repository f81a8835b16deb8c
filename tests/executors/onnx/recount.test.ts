import { buildModel, exportStandalone, randomWeights, recountCost } from '../../../executors/onnx';
import { tinyCost, tinyGraph } from './tiny-graph';

describe('recountCost', () => {
  const weights = randomWeights(tinyGraph(8, 12), 4);

  it.each([
    [8, 12],
    [5, 7],
    [1, 1],
  ])('recounts the hand-counted cost of tiny(%i, %i) from its export', (a, b) => {
    for (const bn of ['folded', 'running'] as const) {
      expect(recountCost(exportStandalone(tinyGraph(a, b), weights, bn))).toEqual(tinyCost(a, b));
    }
  });

  it('refuses operators it cannot price rather than skipping them', () => {
    const evaluation = buildModel(tinyGraph(8, 12), weights, { batchNorm: 'folded', head: 'metrics', masked: false });
    expect(() => recountCost(evaluation)).toThrow(/cannot count operator/);
  });
});
