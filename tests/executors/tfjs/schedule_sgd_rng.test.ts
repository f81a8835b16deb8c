import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { Rng, mulberry32 } from '../../../executors/rng';
import { LrSchedule, checkSchedule, learningRate } from '../../../executors/tfjs/schedule';
import { NesterovSgd } from '../../../executors/tfjs/sgd';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';

describe('learningRate', () => {
  const base = { baseLr: 0.4, totalIterations: 100, warmupIterations: 0 };

  it('decays linearly per iteration towards 0', () => {
    const s: LrSchedule = { ...base, decay: { kind: 'linear' } };
    expect(learningRate(s, 0)).toBeCloseTo(0.4);
    expect(learningRate(s, 50)).toBeCloseTo(0.2);
    expect(learningRate(s, 99)).toBeCloseTo(0.004);
  });

  it('follows a half cosine', () => {
    const s: LrSchedule = { ...base, decay: { kind: 'cosine' } };
    expect(learningRate(s, 0)).toBeCloseTo(0.4);
    expect(learningRate(s, 50)).toBeCloseTo(0.2);
    expect(learningRate(s, 100)).toBeCloseTo(0);
  });

  it('steps down by gamma at each milestone', () => {
    const s: LrSchedule = { ...base, decay: { kind: 'step', milestones: [0.5, 0.75], gamma: 0.1 } };
    expect([49, 50, 74, 75].map((t) => learningRate(s, t))).toEqual([0.4, 0.4 * 0.1, 0.4 * 0.1, 0.4 * 0.1 ** 2].map((v) => expect.closeTo(v, 10)));
  });

  it('warms up linearly, then decays over the remaining iterations', () => {
    const s: LrSchedule = { ...base, warmupIterations: 9, decay: { kind: 'linear' } };
    expect(learningRate(s, 0)).toBeCloseTo(0.04);
    expect(learningRate(s, 8)).toBeCloseTo(0.36);
    expect(learningRate(s, 9)).toBeCloseTo(0.4);
    fc.assert(fc.property(fc.integer({ min: 9, max: 98 }), (t) => learningRate(s, t + 1) <= learningRate(s, t)));
  });

  it('rejects invalid schedules naming the field', () => {
    expect(() => checkSchedule({ ...base, baseLr: 0, decay: { kind: 'linear' } })).toThrow(/baseLr/);
    expect(() => checkSchedule({ ...base, warmupIterations: 100, decay: { kind: 'linear' } })).toThrow(/warmupIterations/);
    expect(() => checkSchedule({ ...base, decay: { kind: 'step', milestones: [1.5], gamma: 0.1 } })).toThrow(/milestones/);
  });
});

describe('NesterovSgd', () => {
  afterAll(() => tf.disposeVariables());

  it('applies PyTorch Nesterov updates with weight decay only where flagged', async () => {
    await tf.setBackend('cpu');
    const decayed = tf.variable(tf.tensor1d([1]));
    const plain = tf.variable(tf.tensor1d([1]));
    const sgd = new NesterovSgd(
      [
        { name: 'w', variable: decayed, weightDecay: true, toCanonical: null },
        { name: 'b', variable: plain, weightDecay: false, toCanonical: null },
      ],
      { momentum: 0.9, weightDecay: 0.1 },
    );
    const grads = () => new Map([['w', tf.tensor1d([0.5])], ['b', tf.tensor1d([0.5])]]);
    // w: g = 0.5 + 0.1·1 = 0.6, v = 0.6, w = 1 − 0.1·(0.6 + 0.54) = 0.886
    // b: g = 0.5, v = 0.5, b = 1 − 0.1·(0.5 + 0.45) = 0.905
    sgd.step(grads(), 0.1);
    expect(decayed.dataSync()[0]).toBeCloseTo(0.886, 6);
    expect(plain.dataSync()[0]).toBeCloseTo(0.905, 6);
    // b: v = 0.9·0.5 + 0.5 = 0.95, b = 0.905 − 0.1·(0.5 + 0.855) = 0.7695
    sgd.step(grads(), 0.1);
    expect(plain.dataSync()[0]).toBeCloseTo(0.7695, 6);
    expect(sgd.exportMomentum().get('b')!.data[0]).toBeCloseTo(0.95, 6);
    sgd.dispose();
  });

  it('takes the same steps through the wasm SIMD kernel as through tfjs ops on cpu', async () => {
    // Eight values run the kernel on wasm; three (not whole SIMD vectors) run tfjs ops there too.
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const params = [8, 3].map((n, i) => ({
        name: `p${i}`,
        variable: tf.variable(tf.tensor1d(Array.from({ length: n }, (_, j) => 1 + 0.1 * j))),
        weightDecay: i === 0,
        toCanonical: null,
      }));
      const sgd = new NesterovSgd(params, { momentum: 0.9, weightDecay: 0.1 });
      for (const lr of [0.1, 0.05]) {
        const grads = new Map(params.map((p) => [p.name, tf.tensor1d(Array.from({ length: p.variable.size }, (_, j) => 0.5 - 0.2 * j))]));
        sgd.step(grads, lr);
        tf.dispose([...grads.values()]);
      }
      const out = [...params.map((p) => Array.from(p.variable.dataSync())), ...[...sgd.exportMomentum().values()].map((m) => Array.from(m.data))];
      sgd.dispose();
      tf.dispose(params.map((p) => p.variable));
      return out;
    };
    const expected = await run('cpu');
    await selectTrainingBackend(() => undefined);
    expect(tf.getBackend()).toBe('wasm');
    const actual = await run('wasm');
    actual.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 6)));
    await tf.setBackend('cpu');
  });
});

describe('Rng', () => {
  it('resumes from its state with the same numbers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 20 }), (seed, skip) => {
        const a = new Rng(seed);
        for (let i = 0; i < skip; i++) a.nextUint32();
        const b = new Rng(a.state);
        return [0, 1, 2].every(() => a.nextFloat() === b.nextFloat());
      }),
    );
  });

  it('is a pure transition', () => {
    expect(mulberry32(42)).toEqual(mulberry32(42));
    expect(mulberry32(42).state).not.toBe(42);
  });

  it('draws permutations and in-range integers', () => {
    const rng = new Rng(7);
    const p = rng.permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from({ length: 200 }, () => rng.nextInt(3)).every((v) => v >= 0 && v < 3)).toBe(true);
    expect(() => new Rng(-1)).toThrow(/rng state/);
    expect(() => rng.nextInt(0)).toThrow(/rng range/);
  });
});
