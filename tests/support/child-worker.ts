/**
 * A slimlab worker in its own process, for tests that kill, stop and resume it. It speaks only the
 * worker protocol, to the servers in SLIMLAB_TEST_SERVERS (comma-separated, tried in turn) with
 * SLIMLAB_WORKER_TOKEN. SLIMLAB_TEST_WORKER_PLUGINS picks its plugins (comma-separated, in
 * preference order): 'tfjs' (the real trainer, sized for tests), 'steps' (cluster-plugins.ts,
 * SLIMLAB_TEST_STEP_MS per step), 'noop' and 'stream'. Prints `WORKER <id>` once registered.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorPlugin } from '../../executors/contract';
import { ExecutorRegistry } from '../../executors/registry';
import { createWorkerTransfer } from '../../executors/remote/transfer';
import { SLIMLAB_VERSION } from '../../executors/version';
import { Worker } from '../../executors/worker';
import { NoopPlugin, StepsPlugin, StreamPlugin } from './cluster-plugins';
import { TEST_TRAINING_OPTIONS } from './plugins';

const env = process.env;

const plugins: Record<string, () => Promise<ExecutorPlugin>> = {
  // Loaded only when asked for: a noop worker of the claim benchmark should not pay for tfjs.
  tfjs: async () => {
    const { TfjsTrainingPlugin } = require('../../executors/tfjs/plugin') as typeof import('../../executors/tfjs/plugin');
    return new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS);
  },
  steps: async () => new StepsPlugin(Number(env.SLIMLAB_TEST_STEP_MS ?? '100')),
  noop: async () => new NoopPlugin(),
  stream: async () => new StreamPlugin(),
};

const log = {
  info: (message: string) => process.stderr.write(`[worker ${process.pid}] ${message}\n`),
  warn: (message: string) => process.stderr.write(`[worker ${process.pid}] ${message}\n`),
};

async function main(): Promise<void> {
  const registry = new ExecutorRegistry();
  for (const name of (env.SLIMLAB_TEST_WORKER_PLUGINS ?? 'steps').split(',')) {
    const make = plugins[name];
    if (!make) throw new Error(`SLIMLAB_TEST_WORKER_PLUGINS: no test plugin "${name}"`);
    await registry.register(await make());
  }
  const worker = new Worker(registry, {
    servers: (env.SLIMLAB_TEST_SERVERS ?? '').split(','),
    token: env.SLIMLAB_WORKER_TOKEN ?? '',
    concurrency: Number(env.SLIMLAB_WORKER_CONCURRENCY ?? '1'),
    version: SLIMLAB_VERSION,
    log,
    transfer: (client) => createWorkerTransfer(client, env.SLIMLAB_WORK_DIR ?? mkdtempSync(join(tmpdir(), 'slimlab-worker-')), null),
  });
  const stop = async (reason: string) => {
    log.info(`${reason}: stopping`);
    await worker.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // The test process is gone: do not outlive it.
  process.once('disconnect', () => void stop('test process gone'));
  await worker.start();
  console.log(`WORKER ${worker.workerId}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
