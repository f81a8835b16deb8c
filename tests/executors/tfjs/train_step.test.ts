import * as tf from '@tensorflow/tfjs-core';
import { NetworkGraph } from '../../../autoslim/graph';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { DistillationMode, klDivergence, smoothedCrossEntropy, softCrossEntropy } from '../../../executors/tfjs/losses';
import { Rng } from '../../../executors/rng';
import { NesterovSgd } from '../../../executors/tfjs/sgd';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';
import { ConfigSpace, sandwichConfigs, trainStep } from '../../../executors/tfjs/train_step';
import { TINY_CLASSES, TINY_NARROWEST, TINY_SIZE, TINY_WIDEST, tinyGraph } from './tiny_graph';

function batch(seed: number, n: number) {
  const rng = new Rng(seed);
  return {
    images: tf.tensor4d(Float32Array.from({ length: n * TINY_SIZE * TINY_SIZE }, () => rng.nextNormal()), [n, TINY_SIZE, TINY_SIZE, 1]),
    labels: tf.tensor1d(Array.from({ length: n }, () => rng.nextInt(TINY_CLASSES)), 'int32'),
  };
}

const widest = tinyGraph(TINY_WIDEST);
const narrowest = tinyGraph(TINY_NARROWEST);

const scalar = (f: () => tf.Tensor): number => tf.tidy(() => f().dataSync()[0]!);

beforeAll(async () => {
  await selectTrainingBackend(() => undefined);
});

describe('losses', () => {
  it('smooths labels with ε/(C−1) off-target', () => {
    const logits = tf.tensor2d([[2, 0, -1]]);
    const labels = tf.tensor1d([0], 'int32');
    const logp = tf.logSoftmax(logits).dataSync();
    const expected = -(0.9 * logp[0]! + 0.05 * logp[1]! + 0.05 * logp[2]!);
    expect(scalar(() => smoothedCrossEntropy(logits, labels, 0.1))).toBeCloseTo(expected, 6);
    expect(scalar(() => smoothedCrossEntropy(logits, labels, 0))).toBeCloseTo(-logp[0]!, 6);
    expect(() => smoothedCrossEntropy(logits, labels, 1)).toThrow(/labelSmoothing/);
  });

  it('KL of a distribution with itself is zero and positive otherwise', () => {
    const logits = tf.tensor2d([[1, 2, 3]]);
    expect(scalar(() => klDivergence(logits, tf.softmax(logits)))).toBeCloseTo(0, 6);
    expect(scalar(() => klDivergence(logits, tf.tensor2d([[1, 0, 0]])))).toBeGreaterThan(0.1);
  });
});

/** The initial classifier (std 0.01) gives near-uniform softmaxes; scale it up so configs disagree. */
function confidentNetwork(seed: number): SlimmableNetwork {
  const net = new SlimmableNetwork(widest, seed);
  const fc = net.trainable.find((p) => p.name === 'fc.weight')!.variable;
  tf.tidy(() => fc.assign(tf.mul(fc, 300)));
  return net;
}

describe('trainStep', () => {
  /** Losses trainStep reports for [widest, narrowest] and the ones computed here from the same weights. */
  function stepLosses(mode: DistillationMode) {
    const net = confidentNetwork(4);
    const sgd = new NesterovSgd(net.trainable);
    const b = batch(8, 6);
    const expected = tf.tidy(() => {
      const teacherLogits = net.forward(widest, b.images, 'batch');
      const studentLogits = net.forward(narrowest, b.images, 'batch');
      const teacher = tf.softmax(teacherLogits) as tf.Tensor2D;
      return {
        teacher: smoothedCrossEntropy(teacherLogits, b.labels, 0.1).dataSync()[0]!,
        hard: smoothedCrossEntropy(studentLogits, b.labels, 0.1).dataSync()[0]!,
        soft: softCrossEntropy(studentLogits, teacher).dataSync()[0]!,
        kl: klDivergence(studentLogits, teacher).dataSync()[0]!,
      };
    });
    const { losses } = trainStep(net, sgd, [widest, narrowest], b, 0.1, { labelSmoothing: 0.1, distillation: mode });
    tf.dispose([b.images, b.labels]);
    sgd.dispose();
    net.dispose();
    return { losses, expected };
  }

  it("'soft' trains non-widest configs on the widest config's softmax only", () => {
    const { losses, expected } = stepLosses('soft');
    expect(losses[0]).toBeCloseTo(expected.teacher, 5);
    expect(losses[1]).toBeCloseTo(expected.soft, 5);
    expect(Math.abs(expected.soft - expected.hard)).toBeGreaterThan(1e-3);
  });

  it("'hard+kl' adds KL(teacher ‖ student) to the hard loss", () => {
    const { losses, expected } = stepLosses('hard+kl');
    expect(losses[1]).toBeCloseTo(expected.hard + expected.kl, 5);
    expect(expected.kl).toBeGreaterThan(1e-4);
  });

  it("'off' trains every config on the labels", () => {
    const { losses, expected } = stepLosses('off');
    expect(losses[1]).toBeCloseTo(expected.hard, 5);
  });

  it('sums the gradients of all configs before one update', () => {
    // Two copies of the widest config make the update exactly that of one config at twice the lr
    // (momentum buffers start at zero, so the first Nesterov step is lr·(1 + μ)·g).
    const twice = new SlimmableNetwork(widest, 4);
    const once = new SlimmableNetwork(widest, 4);
    const b = batch(9, 5);
    const settings = { labelSmoothing: 0.1, distillation: 'off' } as const;
    const sgdTwice = new NesterovSgd(twice.trainable, { momentum: 0.9, weightDecay: 0 });
    const sgdOnce = new NesterovSgd(once.trainable, { momentum: 0.9, weightDecay: 0 });
    trainStep(twice, sgdTwice, [widest, widest], b, 0.05, settings);
    trainStep(once, sgdOnce, [widest], b, 0.1, settings);
    const a = twice.exportWeights().get('stem.weight')!.data;
    const c = once.exportWeights().get('stem.weight')!.data;
    a.forEach((v, i) => expect(v).toBeCloseTo(c[i]!, 5));
    tf.dispose([b.images, b.labels]);
    [sgdTwice, sgdOnce, twice, once].forEach((d) => d.dispose());
  });

  it('a plain fixed-width step lowers the loss on a repeated batch', () => {
    const net = confidentNetwork(5);
    const sgd = new NesterovSgd(net.trainable);
    const b = batch(10, 16);
    const settings = { labelSmoothing: 0, distillation: 'off' } as const;
    const first = trainStep(net, sgd, [widest], b, 0.05, settings).losses[0]!;
    let last = first;
    for (let i = 0; i < 20; i++) last = trainStep(net, sgd, [widest], b, 0.05, settings).losses[0]!;
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose([b.images, b.labels]);
    sgd.dispose();
    net.dispose();
  });

  it('frees every intermediate tensor', () => {
    const net = new SlimmableNetwork(widest, 4);
    const sgd = new NesterovSgd(net.trainable);
    const b = batch(8, 4);
    trainStep(net, sgd, [widest, narrowest], b, 0.1, { labelSmoothing: 0.1, distillation: 'soft' });
    const before = tf.memory().numTensors;
    trainStep(net, sgd, [widest, narrowest, widest], b, 0.1, { labelSmoothing: 0.1, distillation: 'hard+kl' });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([b.images, b.labels]);
    sgd.dispose();
    net.dispose();
  });
});

describe('sandwichConfigs', () => {
  it('trains widest, narrowest, then n sampled configs', () => {
    const sampled: NetworkGraph[] = [tinyGraph({ stem: 4, mid: 5 }), tinyGraph({ stem: 3, mid: 7 })];
    const space: ConfigSpace = { widest, narrowest, sample: (rng) => sampled[rng.nextInt(2)]! };
    const configs = sandwichConfigs(space, new Rng(1), 3);
    expect(configs).toHaveLength(5);
    expect(configs[0]).toBe(widest);
    expect(configs[1]).toBe(narrowest);
    expect(configs.slice(2).every((c) => sampled.includes(c))).toBe(true);
    expect(sandwichConfigs(space, new Rng(1))).toHaveLength(4);
    expect(() => sandwichConfigs(space, new Rng(1), -1)).toThrow(/randomConfigs/);
  });
});
