import * as tf from '@tensorflow/tfjs-core';
import { NetworkGraph } from '../../../autoslim/graph';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { DataParallelStep, combineShards, shardBounds } from '../../../executors/tfjs/parallel/data_parallel_step';
import { flattenGradients, readWeights, unflattenGradients } from '../../../executors/tfjs/parallel/flat_parameters';
import { ReplicaPool } from '../../../executors/tfjs/parallel/replica_pool';
import { MIN_PARALLEL_STEP_MACS, chooseWorkers, parseWorkerOption } from '../../../executors/tfjs/parallel/worker_count';
import { Rng } from '../../../executors/rng';
import { NesterovSgd } from '../../../executors/tfjs/sgd';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';
import { Batch, ConfigSpace, StepSettings, computeGradients } from '../../../executors/tfjs/train_step';
import { StepMetrics, Trainer, defaultTrainerSettings, sandwichPlan } from '../../../executors/tfjs/trainer';
import { TINY_CLASSES, TINY_NARROWEST, TINY_SIZE, TINY_WIDEST, tinyGraph } from './tiny_graph';

const widest = tinyGraph(TINY_WIDEST);
const narrowest = tinyGraph(TINY_NARROWEST);
const SOFT: StepSettings = { labelSmoothing: 0.1, distillation: 'soft' };

function batch(seed: number, n: number): Batch {
  const rng = new Rng(seed);
  return {
    images: tf.tensor4d(Float32Array.from({ length: n * TINY_SIZE * TINY_SIZE }, () => rng.nextNormal()), [n, TINY_SIZE, TINY_SIZE, 1]),
    labels: tf.tensor1d(Array.from({ length: n }, () => rng.nextInt(TINY_CLASSES)), 'int32'),
  };
}

function rows(b: Batch, start: number, end: number): Batch {
  return { images: tf.slice(b.images, [start], [end - start]), labels: tf.slice(b.labels, [start], [end - start]) };
}

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  a.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  });
  return diff / scale;
}

beforeAll(async () => {
  await selectTrainingBackend(() => undefined);
});

describe('sharding', () => {
  it('splits a batch into contiguous shards whose sizes differ by at most one, none empty', () => {
    expect(shardBounds(64, 2)).toEqual([{ start: 0, end: 32 }, { start: 32, end: 64 }]);
    expect(shardBounds(5, 2)).toEqual([{ start: 0, end: 2 }, { start: 2, end: 5 }]);
    expect(shardBounds(1, 3)).toEqual([{ start: 0, end: 1 }]);
  });

  it('combines shard gradients and losses weighted by shard size', () => {
    const combined = combineShards(
      [
        { id: 1, losses: [1, 2], grads: Float32Array.from([1, 0, 4]), present: [true, false, true] },
        { id: 1, losses: [4, 8], grads: Float32Array.from([3, 0, 8]), present: [true, false, true] },
      ],
      [0.25, 0.75],
    );
    expect(combined.losses).toEqual([3.25, 6.5]);
    expect([...combined.grads.data]).toEqual([2.5, 0, 7]);
    expect(combined.grads.present).toEqual([true, false, true]);
  });

  it('round-trips weights and gradients through one flat buffer', () => {
    const net = new SlimmableNetwork(widest, 1);
    const flat = readWeights(net.trainable);
    const grads = new Map(net.trainable.map((p) => [p.name, tf.onesLike(p.variable)]));
    grads.delete(net.trainable[1]!.name);
    const flatGrads = flattenGradients(net.trainable, grads);
    const back = unflattenGradients(net.trainable, flatGrads);
    expect(flat).toHaveLength(flatGrads.data.length);
    expect([...back.keys()]).toEqual([...grads.keys()]);
    tf.dispose([...grads.values(), ...back.values()]);
    net.dispose();
  });
});

describe('chooseWorkers', () => {
  const large = { backend: 'wasm', batchSize: 64, macs: 10 * MIN_PARALLEL_STEP_MACS };

  it("'auto' uses a worker per core when the batch and the step are large enough", () => {
    expect(chooseWorkers('auto', large, 2).workers).toBe(2);
    expect(chooseWorkers('auto', large, 16).workers).toBe(4);
    expect(chooseWorkers('auto', large, 1).workers).toBe(1);
    expect(chooseWorkers('auto', { ...large, batchSize: 16 }, 2).workers).toBe(1);
    expect(chooseWorkers('auto', { ...large, macs: MIN_PARALLEL_STEP_MACS / 2 }, 2)).toMatchObject({ workers: 1, reason: expect.stringMatching(/too small/) });
    expect(chooseWorkers('auto', { ...large, backend: 'tensorflow' }, 2).workers).toBe(1);
  });

  it('takes a count as asked, and refuses workers on a backend that cannot run in them', () => {
    expect(chooseWorkers(3, { ...large, macs: 1 }, 2).workers).toBe(3);
    expect(() => chooseWorkers(2, { ...large, backend: 'tensorflow' }, 2)).toThrow(/cannot run in workers/);
    expect(() => parseWorkerOption(0)).toThrow(/positive integer/);
    expect(() => parseWorkerOption('two')).toThrow(/'auto'/);
  });
});

describe('data-parallel steps in worker threads', () => {
  let pool: ReplicaPool;

  beforeAll(async () => {
    pool = await ReplicaPool.start(2, { supernet: widest, backend: tf.getBackend() });
  });

  afterAll(async () => {
    await pool.terminate();
  });

  it('takes the update of the size-weighted mean of single-threaded gradients over the shards', async () => {
    // 5 images: shards of 2 and 3, each normalised by its own batch statistics.
    const b = batch(21, 5);
    const configs = [widest, narrowest];
    const parallelNet = new SlimmableNetwork(widest, 8);
    const parallelSgd = new NesterovSgd(parallelNet.trainable);
    const step = new DataParallelStep(pool, parallelNet, parallelSgd);
    const parallel = await step.step(configs, b, 0.1, SOFT, new AbortController().signal);

    const localNet = new SlimmableNetwork(widest, 8);
    const localSgd = new NesterovSgd(localNet.trainable);
    const shards = [rows(b, 0, 2), rows(b, 2, 5)].map((s) => {
      const { losses, grads } = computeGradients(localNet, configs, s, SOFT);
      const flat = flattenGradients(localNet.trainable, grads);
      tf.dispose([...grads.values(), s.images, s.labels]);
      return { id: 0, losses, grads: flat.data, present: flat.present };
    });
    const expected = combineShards(shards, [2 / 5, 3 / 5]);
    const grads = unflattenGradients(localNet.trainable, expected.grads);
    localSgd.step(grads, 0.1);

    parallel.losses.forEach((loss, i) => expect(loss).toBeCloseTo(expected.losses[i]!, 5));
    expect(maxRelativeDifference(readWeights(parallelNet.trainable), readWeights(localNet.trainable))).toBeLessThan(1e-5);
    tf.dispose([...grads.values(), b.images, b.labels]);
    [parallelSgd, parallelNet, localSgd, localNet].forEach((d) => d.dispose());
  });

  it('surfaces an error thrown in a worker as the step error, and stops the pool', async () => {
    const broken = await ReplicaPool.start(2, { supernet: widest, backend: tf.getBackend() });
    const net = new SlimmableNetwork(widest, 1);
    const sgd = new NesterovSgd(net.trainable);
    const step = new DataParallelStep(broken, net, sgd);
    const b = batch(3, 4);
    const foreign: NetworkGraph = { ...widest, nodes: widest.nodes.slice(0, -1) };
    await expect(step.step([foreign], b, 0.1, SOFT, new AbortController().signal)).rejects.toThrow(/data-parallel worker \d of 2: config: has/);
    await expect(step.step([widest], b, 0.1, SOFT, new AbortController().signal)).rejects.toThrow(/data-parallel worker/);
    await eventuallyStopped(broken);
    tf.dispose([b.images, b.labels]);
    sgd.dispose();
    net.dispose();
  });

  it('fails to start, with the worker\'s error, when a replica cannot build its network', async () => {
    const unnormalised: NetworkGraph = { ...widest, nodes: widest.nodes.map((n) => (n.op === 'conv' ? { ...n, batchNorm: false } : n)) };
    await expect(ReplicaPool.start(2, { supernet: unnormalised, backend: tf.getBackend() })).rejects.toThrow(/data-parallel worker \d of 2: .*without batch norm/);
  });

  it('stops the workers mid-step when the step is aborted', async () => {
    const aborted = await ReplicaPool.start(2, { supernet: widest, backend: tf.getBackend() });
    const net = new SlimmableNetwork(widest, 1);
    const sgd = new NesterovSgd(net.trainable);
    const before = readWeights(net.trainable);
    const controller = new AbortController();
    const b = batch(4, 4);
    const running = new DataParallelStep(aborted, net, sgd).step([widest], b, 0.1, SOFT, controller.signal);
    controller.abort(new Error('cancelled by user'));
    await expect(running).rejects.toThrow('cancelled by user');
    await eventuallyStopped(aborted);
    expect(readWeights(net.trainable)).toEqual(before);
    tf.dispose([b.images, b.labels]);
    sgd.dispose();
    net.dispose();
  });
});

describe('a Trainer with data-parallel workers', () => {
  const space: ConfigSpace = {
    widest,
    narrowest,
    sample: (rng) => tinyGraph({ stem: 2 + rng.nextInt(5), mid: 3 + rng.nextInt(6) }),
  };
  const settings = { ...defaultTrainerSettings({ baseLr: 0.1, totalIterations: 6, warmupIterations: 1, decay: { kind: 'cosine' } }, 3), workers: 2 };
  let data: Batch[] = [];

  beforeAll(() => {
    data = Array.from({ length: 6 }, (_, i) => batch(40 + i, 6));
  });

  afterAll(() => data.forEach((b) => tf.dispose([b.images, b.labels])));

  async function losses(trainer: Trainer, batches: Batch[]): Promise<StepMetrics[]> {
    const seen: StepMetrics[] = [];
    await trainer.train(batches, new AbortController().signal, (m) => {
      seen.push(m);
    });
    return seen;
  }

  it('trains, checkpoints and resumes exactly as an uninterrupted parallel run', async () => {
    const straight = new Trainer(widest, sandwichPlan(space), settings);
    expect(await straight.prepare(6)).toMatchObject({ workers: 2 });
    const reference = await losses(straight, data);
    expect(reference.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);

    const first = new Trainer(widest, sandwichPlan(space), settings);
    await losses(first, data.slice(0, 3));
    const saved = first.saveState();
    await first.dispose();
    const resumed = new Trainer(widest, sandwichPlan(space), { ...settings, seed: 77 });
    resumed.loadState(saved);
    const rest = await losses(resumed, data.slice(3));

    expect(rest.map((m) => m.step)).toEqual([4, 5, 6]);
    rest.forEach((m, i) => m.configLosses.forEach((loss, j) => expect(loss).toBeCloseTo(reference[i + 3]!.configLosses[j]!, 5)));
    await Promise.all([straight.dispose(), resumed.dispose()]);
  });

  it('throws a worker error from train', async () => {
    const foreign: ConfigSpace = { ...space, narrowest: { ...narrowest, nodes: narrowest.nodes.slice(0, -1) } };
    const trainer = new Trainer(widest, sandwichPlan(foreign), settings);
    await expect(losses(trainer, data)).rejects.toThrow(/data-parallel worker/);
    expect(trainer.step).toBe(0);
    await trainer.dispose();
  });
});

async function eventuallyStopped(pool: ReplicaPool): Promise<void> {
  for (let i = 0; i < 100 && pool.running > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(pool.running).toBe(0);
}
