import * as tf from '@tensorflow/tfjs-core';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { Rng } from '../../../executors/rng';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';
import { Tensor as WeightTensor, decodeSafetensors, encodeSafetensors } from '../../../executors/weights';
import { TINY_NARROWEST, TINY_SIZE, TINY_WIDEST, tinyGraph } from './tiny_graph';

function images(seed: number, n: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * TINY_SIZE * TINY_SIZE }, () => rng.nextNormal()), [n, TINY_SIZE, TINY_SIZE, 1]);
}

/** The leading block of a canonical tensor: first k of every axis whose size differs. */
function leading(t: WeightTensor, shape: number[]): WeightTensor {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  out.forEach((_, flat) => {
    let rest = flat;
    let src = 0;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      src += (rest % shape[axis]!) * strides[axis]!;
      rest = Math.floor(rest / shape[axis]!);
    }
    out[flat] = t.data[src]!;
  });
  return { shape, data: out };
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

beforeAll(async () => {
  await selectTrainingBackend(() => undefined);
});

describe('SlimmableNetwork', () => {
  it('runs a narrow config as the first channels of the widest weights', () => {
    const wide = new SlimmableNetwork(tinyGraph(TINY_WIDEST), 1);
    const narrowGraph = tinyGraph(TINY_NARROWEST);
    const standalone = new SlimmableNetwork(narrowGraph, 2);
    const full = wide.exportWeights();
    const standaloneShapes = standalone.exportWeights();
    standalone.importWeights(new Map([...standaloneShapes].map(([name, t]) => [name, leading(full.get(name)!, [...t.shape])])));
    const x = images(3, 4);
    const sliced = wide.forward(narrowGraph, x, 'batch');
    const reference = standalone.forward(narrowGraph, x, 'batch');
    expect(sliced.shape).toEqual([4, 3]);
    expect(maxAbsDiff(sliced, reference)).toBeLessThan(1e-5);
    tf.dispose([x, sliced, reference]);
    wide.dispose();
    standalone.dispose();
  });

  it('rejects a config that is wider than the supernet or of another graph', () => {
    const net = new SlimmableNetwork(tinyGraph(TINY_NARROWEST), 1);
    const x = images(1, 2);
    expect(() => net.forward(tinyGraph(TINY_WIDEST), x, 'batch')).toThrow(/above the supernet/);
    const other = { ...tinyGraph(TINY_NARROWEST), nodes: tinyGraph(TINY_NARROWEST).nodes.slice(1) };
    expect(() => net.forward(other, x, 'batch')).toThrow(/configuration of this supernet/);
    x.dispose();
    net.dispose();
  });

  it('recalibrates running statistics of a config to the cumulative batch average', () => {
    const net = new SlimmableNetwork(tinyGraph(TINY_WIDEST), 1);
    const narrow = tinyGraph(TINY_NARROWEST);
    const batch = images(5, 64);
    net.recalibrateBatchNorm(narrow, [batch, batch]);
    // With statistics from this very batch, inference matches training-mode BN up to the
    // unbiased-variance correction (n/(n−1) over 64·49 values).
    const running = net.forward(narrow, batch, 'running');
    const batchMode = net.forward(narrow, batch, 'batch');
    expect(maxAbsDiff(running, batchMode)).toBeLessThan(2e-3);
    const weights = net.exportWeights();
    const mean = weights.get('stem.bn.mean')!.data;
    const variance = weights.get('stem.bn.var')!.data;
    // Channels beyond the config's two keep their initial statistics.
    expect([...mean.slice(TINY_NARROWEST.stem)]).toEqual(new Array(TINY_WIDEST.stem - TINY_NARROWEST.stem).fill(0));
    expect([...variance.slice(TINY_NARROWEST.stem)]).toEqual(new Array(TINY_WIDEST.stem - TINY_NARROWEST.stem).fill(1));
    expect(Math.abs(mean[0]!)).toBeGreaterThan(0);
    tf.dispose([batch, running, batchMode]);
    net.dispose();
  });

  it('exports canonical layouts that round-trip through safetensors', () => {
    const source = new SlimmableNetwork(tinyGraph(TINY_WIDEST), 1);
    const weights = source.exportWeights();
    expect(weights.get('stem.weight')!.shape).toEqual([6, 1, 3, 3]);
    expect(weights.get('dw.weight')!.shape).toEqual([8, 1, 3, 3]);
    expect(weights.get('expand.weight')!.shape).toEqual([8, 6, 1, 1]);
    expect(weights.get('fc.weight')!.shape).toEqual([3, 6]);
    const target = new SlimmableNetwork(tinyGraph(TINY_WIDEST), 99);
    target.importWeights(decodeSafetensors(encodeSafetensors(weights)).tensors);
    const x = images(7, 3);
    const a = source.forward(tinyGraph(TINY_WIDEST), x, 'batch');
    const b = target.forward(tinyGraph(TINY_WIDEST), x, 'batch');
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(() => target.importWeights(new Map([...weights].filter(([name]) => name !== 'fc.bias')))).toThrow(/fc.bias is missing/);
    tf.dispose([x, a, b]);
    source.dispose();
    target.dispose();
  });

  it('keys OIHW conv weights so that output channel o, input i is element [o, i]', () => {
    const net = new SlimmableNetwork(tinyGraph(TINY_WIDEST), 1);
    const weights = new Map(net.exportWeights());
    const expand = weights.get('expand.weight')!;
    // OIHW element [o = 0, i = 1] must land at HWIO [0, 0, i = 1, o = 0].
    const data = new Float32Array(expand.data.length);
    data[0 * 6 + 1] = 1;
    weights.set('expand.weight', { shape: expand.shape, data });
    net.importWeights(weights);
    const hwio = net.trainable.find((p) => p.name === 'expand.weight')!.variable;
    expect(hwio.shape).toEqual([1, 1, 6, 8]);
    expect(hwio.dataSync()[1 * 8 + 0]).toBe(1);
    net.dispose();
  });
});
