import * as ort from 'onnxruntime-node';
import { BN_EPSILON } from '../../../executors/onnx';
import { batchStatisticsNorm } from '../../../executors/onnx/batch-norm';
import { OnnxGraphBuilder } from '../../../executors/onnx/proto';
import { maxAbsDifference, randomImages, runOutput } from './run-model';

const [N, C, H, W] = [6, 4, 5, 5];
const bn = {
  gamma: Float32Array.of(1.5, 0.5, -1, 2),
  beta: Float32Array.of(0.1, -0.3, 0, 1),
  mean: new Float32Array(C),
  variance: new Float32Array(C).fill(1),
};

function normModel(emit: (b: OnnxGraphBuilder, x: string) => string): Uint8Array {
  const b = new OnnxGraphBuilder();
  const x = b.input({ name: 'x', type: 'float32', dims: [N, C, H, W] });
  b.alias(emit(b, x), 'y');
  b.output({ name: 'y', type: 'float32', dims: [N, C, H, W] });
  return b.encode('bn');
}

/** ORT's own BatchNormalization in training mode (CPU provider only), the reference. */
function trainingModeNorm(b: OnnxGraphBuilder, x: string): string {
  const c = [C];
  const inputs = [x, b.floats('g', c, bn.gamma), b.floats('b', c, bn.beta), b.floats('m', c, bn.mean), b.floats('v', c, bn.variance)];
  return b.opOutputs('BatchNormalization', inputs, { epsilon: { float: BN_EPSILON }, training_mode: 1 }, 3)[0];
}

describe('batch-statistics batch norm', () => {
  it('matches ORT training-mode BatchNormalization to 1e-5', async () => {
    // An offset and spread per channel, so a wrong axis or a missing centering shows.
    const x = randomImages(N, C * H * W, 11).map((v, i) => 3 * v + Math.floor(i / (H * W)) % C);
    const feeds = { x: new ort.Tensor('float32', x, [N, C, H, W]) };
    const ours = await runOutput(normModel((b, t) => batchStatisticsNorm(b, t, 'bn', bn, H * W, null)), feeds, 'y');
    const reference = await runOutput(normModel(trainingModeNorm), feeds, 'y');
    expect(maxAbsDifference(ours, reference)).toBeLessThan(1e-5);
  });
});
