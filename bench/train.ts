/**
 * Throughput of one plain fixed-width training step (forward, backward, SGD update) of
 * mbv2-fmnist at 1.0x, batch 64: on the backend slimlab chooses, in the job's thread and with
 * the data-parallel workers a training job would use ('auto'), on plain tfjs 'cpu', and in
 * PyTorch (../shared/bench/torch_reference.py) side by side. `images_per_s` is what a training
 * job runs at. The last line is one JSON object.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/train.js [--steps 10] [--cpu-steps 1]
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildGraph, defaultChannels, profileGraph, type NetworkGraph } from '../autoslim';
import { selectTrainingBackend } from '../executors/tfjs/backend';
import { chooseWorkers } from '../executors/tfjs/parallel/worker_count';
import { NesterovSgd } from '../executors/tfjs/sgd';
import { StepEngine, startStepEngine } from '../executors/tfjs/step_engine';
import { SlimmableNetwork } from '../executors/tfjs/supernet';
import { flag } from './numbers';

const BATCH = 64;
const OPTS = { inputSize: 28, numClasses: 10 };
// npm scripts run at the repository root, which has the shared folder beside it.
const TORCH_SCRIPT = resolve('..', 'shared', 'bench', 'torch_reference.py');
const SETTINGS = { labelSmoothing: 0.1, distillation: 'off' } as const;

/**
 * Median images/s of each worker count over `steps` timed steps after `warmup` untimed ones.
 * The counts take turns step by step, so on a shared machine they see the same load.
 */
async function measure(graph: NetworkGraph, workerCounts: readonly number[], steps: number, warmup: number): Promise<number[]> {
  const network = new SlimmableNetwork(graph, 1);
  const optimizer = new NesterovSgd(network.trainable);
  const work = { backend: tf.getBackend(), batchSize: BATCH, macs: BATCH * profileGraph(graph).macs };
  const engines: StepEngine[] = [];
  for (const workers of workerCounts) engines.push((await startStepEngine(workers, network, optimizer, work)).engine);
  const images = tf.randomNormal([BATCH, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32');
  const signal = new AbortController().signal;
  const times = engines.map((): number[] => []);
  try {
    for (let i = 0; i < warmup + steps; i++) {
      for (const [k, engine] of engines.entries()) {
        const start = process.hrtime.bigint();
        await engine.step([graph], { images, labels }, 0.05, SETTINGS, signal);
        if (i >= warmup) times[k]!.push(Number(process.hrtime.bigint() - start) / 1e9);
      }
    }
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
    tf.dispose([images, labels]);
    optimizer.dispose();
    network.dispose();
  }
  return times.map((t) => {
    const sorted = [...t].sort((a, b) => a - b);
    return BATCH / sorted[Math.floor(sorted.length / 2)]!;
  });
}

function torchImagesPerSecond(): { value: number | null; note: string } {
  const run = spawnSync('/usr/bin/python3', [TORCH_SCRIPT, '--mode', 'train', '--batch', String(BATCH)], { encoding: 'utf8' });
  if (run.status !== 0) return { value: null, note: (run.stderr || String(run.error)).trim().split('\n').pop() ?? 'failed' };
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { images_per_s: number; engine: string };
  return { value: result.images_per_s, note: result.engine };
}

async function main(): Promise<void> {
  const choice = await selectTrainingBackend((line) => console.log(line));
  const graph = buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, OPTS), OPTS);
  const parallel = chooseWorkers('auto', { backend: choice.backend, batchSize: BATCH, macs: BATCH * profileGraph(graph).macs });
  console.log(`mbv2-fmnist 1.0x, batch ${BATCH}, one plain training step (images/s); training jobs use ${parallel.workers} worker(s): ${parallel.reason}`);
  const row = (name: string, value: number | null, digits: number) =>
    console.log(`  ${name.padEnd(54)} ${(value === null ? 'n/a' : value.toFixed(digits)).padStart(10)}`);
  const counts = parallel.workers > 1 ? [1, parallel.workers] : [1];
  const [single, multi] = await measure(graph, counts, flag('--steps', 10), 3);
  row(`tfjs ${choice.backend}, single thread`, single!, 1);
  if (multi !== undefined) row(`tfjs ${choice.backend}, ${parallel.workers} data-parallel workers (as jobs train)`, multi, 1);
  const ours = multi ?? single!;
  // PyTorch runs right after ours so that both see the same load on a shared machine.
  const torch = torchImagesPerSecond();
  row(`pytorch (${torch.note})`, torch.value, 1);
  await tf.setBackend('cpu');
  const [cpu] = await measure(graph, [1], flag('--cpu-steps', 1), 1);
  row('tfjs cpu', cpu!, 2);
  console.log(
    JSON.stringify({
      backend: choice.backend,
      workers: parallel.workers,
      images_per_s: ours,
      single_thread_images_per_s: single,
      cpu_images_per_s: cpu,
      torch_images_per_s: torch.value,
      ratio_vs_torch: torch.value === null ? null : ours / torch.value,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
