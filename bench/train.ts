/**
 * Throughput of one plain fixed-width training step (forward, backward, SGD update) of
 * mbv2-fmnist at 1.0x, batch 64: on the backend slimlab chooses, on plain tfjs 'cpu', and in
 * PyTorch (../shared/bench/torch_reference.py) side by side. The last line is one JSON object.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/train.js [--steps 10] [--cpu-steps 1]
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildGraph, defaultChannels } from '../autoslim';
import { selectTrainingBackend } from '../executors/tfjs/backend';
import { NesterovSgd } from '../executors/tfjs/sgd';
import { SlimmableNetwork } from '../executors/tfjs/supernet';
import { trainStep } from '../executors/tfjs/train_step';

const BATCH = 64;
const OPTS = { inputSize: 28, numClasses: 10 };
// npm scripts run at the repository root, which has the shared folder beside it.
const TORCH_SCRIPT = resolve('..', 'shared', 'bench', 'torch_reference.py');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return value;
}

/** Median images/s over `steps` timed steps after `warmup` untimed ones. */
function measure(steps: number, warmup: number): number {
  const graph = buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, OPTS), OPTS);
  const network = new SlimmableNetwork(graph, 1);
  const optimizer = new NesterovSgd(network.trainable);
  const images = tf.randomNormal([BATCH, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32');
  const batch = { images, labels };
  const settings = { labelSmoothing: 0.1, distillation: 'off' } as const;
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const start = process.hrtime.bigint();
    trainStep(network, optimizer, [graph], batch, 0.05, settings);
    if (i >= warmup) times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  tf.dispose([images, labels]);
  optimizer.dispose();
  network.dispose();
  times.sort((a, b) => a - b);
  return BATCH / times[Math.floor(times.length / 2)]!;
}

function torchImagesPerSecond(): { value: number | null; note: string } {
  const run = spawnSync('/usr/bin/python3', [TORCH_SCRIPT, '--mode', 'train', '--batch', String(BATCH)], { encoding: 'utf8' });
  if (run.status !== 0) return { value: null, note: (run.stderr || String(run.error)).trim().split('\n').pop() ?? 'failed' };
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { images_per_s: number; engine: string };
  return { value: result.images_per_s, note: result.engine };
}

async function main(): Promise<void> {
  const choice = await selectTrainingBackend((line) => console.log(line));
  console.log(`mbv2-fmnist 1.0x, batch ${BATCH}, one plain training step (images/s)`);
  const row = (name: string, value: number | null, digits: number) =>
    console.log(`  ${name.padEnd(48)} ${(value === null ? 'n/a' : value.toFixed(digits)).padStart(10)}`);
  const ours = measure(flag('--steps', 10), 3);
  row(`tfjs ${choice.backend}`, ours, 1);
  // PyTorch runs right after ours so that both see the same load on a shared machine.
  const torch = torchImagesPerSecond();
  row(`pytorch (${torch.note})`, torch.value, 1);
  await tf.setBackend('cpu');
  const cpu = measure(flag('--cpu-steps', 1), 1);
  row('tfjs cpu', cpu, 2);
  console.log(
    JSON.stringify({
      backend: choice.backend,
      images_per_s: ours,
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
