import * as tf from '@tensorflow/tfjs-core';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { Rng } from '../../../executors/rng';
import { ConfigSpace } from '../../../executors/tfjs/train_step';
import { StepMetrics, Trainer, defaultTrainerSettings, sandwichPlan } from '../../../executors/tfjs/trainer';
import { TINY_CLASSES, TINY_NARROWEST, TINY_SIZE, TINY_WIDEST, tinyGraph } from './tiny_graph';

const widest = tinyGraph(TINY_WIDEST);
const space: ConfigSpace = {
  widest,
  narrowest: tinyGraph(TINY_NARROWEST),
  sample: (rng) => tinyGraph({ stem: 2 + rng.nextInt(5), mid: 3 + rng.nextInt(6) }),
};
const settings = defaultTrainerSettings({ baseLr: 0.1, totalIterations: 6, warmupIterations: 1, decay: { kind: 'cosine' } }, 3);

function* batches(seed: number, count: number) {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const n = 4;
    yield {
      images: tf.tensor4d(Float32Array.from({ length: n * TINY_SIZE * TINY_SIZE }, () => rng.nextNormal()), [n, TINY_SIZE, TINY_SIZE, 1]),
      labels: tf.tensor1d(Array.from({ length: n }, () => rng.nextInt(TINY_CLASSES)), 'int32'),
    };
  }
}

async function collect(trainer: Trainer, data: Iterable<ReturnType<typeof batches> extends Iterable<infer B> ? B : never>): Promise<StepMetrics[]> {
  const seen: StepMetrics[] = [];
  await trainer.train(data, new AbortController().signal, (m) => {
    seen.push(m);
  });
  return seen;
}

beforeAll(async () => {
  await selectTrainingBackend(() => undefined);
});

describe('Trainer', () => {
  it('reports one metrics sample per sandwich step and stops at the schedule end', async () => {
    const trainer = new Trainer(widest, sandwichPlan(space), settings);
    const seen = await collect(trainer, batches(1, 10));
    expect(seen.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.every((m) => m.configLosses.length === 4 && m.loss === m.configLosses[0])).toBe(true);
    expect(seen[0]!.lr).toBeCloseTo(0.05);
    expect(trainer.finished).toBe(true);
    trainer.dispose();
  });

  it('throws the abort reason before the next step', async () => {
    const trainer = new Trainer(widest, sandwichPlan(space), settings);
    const controller = new AbortController();
    const run = trainer.train(batches(1, 10), controller.signal, (m) => {
      if (m.step === 2) controller.abort(new Error('cancelled by user'));
    });
    await expect(run).rejects.toThrow('cancelled by user');
    expect(trainer.step).toBe(2);
    trainer.dispose();
  });

  it('resumes from saved state exactly as an uninterrupted run', async () => {
    const data = [...batches(2, 6)];
    const straight = new Trainer(widest, sandwichPlan(space), settings);
    const reference = await collect(straight, data);

    const first = new Trainer(widest, sandwichPlan(space), settings);
    await collect(first, data.slice(0, 3));
    const saved = first.saveState();
    const resumed = new Trainer(widest, sandwichPlan(space), { ...settings, seed: 77 });
    resumed.loadState(saved);
    const rest = await collect(resumed, data.slice(3));

    expect(rest.map((m) => m.step)).toEqual([4, 5, 6]);
    rest.forEach((m, i) => m.configLosses.forEach((loss, j) => expect(loss).toBeCloseTo(reference[i + 3]!.configLosses[j]!, 5)));
    [straight, first, resumed].forEach((t) => t.dispose());
    data.forEach((b) => tf.dispose([b.images, b.labels]));
  });

  it('trains one fixed config for retraining', async () => {
    const narrow = tinyGraph(TINY_NARROWEST);
    const trainer = new Trainer(narrow, { kind: 'fixed', config: narrow }, settings);
    const seen = await collect(trainer, batches(4, 2));
    expect(seen.map((m) => m.configLosses.length)).toEqual([1, 1]);
    trainer.dispose();
  });
});
