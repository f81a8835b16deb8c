import { resolve } from 'node:path';
import type { ExecutorPlugin, Logger } from '../../executors/contract';
import { LatencyProbePlugin } from '../../executors/latency/plugin';
import { OnnxEvaluatePlugin } from '../../executors/onnx/evaluate-plugin';
import { OnnxExportPlugin } from '../../executors/onnx/export-plugin';
import { PROVIDER_CHOICES, describeProvider, type ProviderChoice } from '../../executors/onnx/session';
import { OnnxSlimmingPlugin } from '../../executors/onnx/slim-plugin';
import { ExecutorRegistry } from '../../executors/registry';
import { createWorkerTransfer } from '../../executors/remote/transfer';
import { TfjsTrainingPlugin } from '../../executors/tfjs/plugin';
import { SLIMLAB_VERSION } from '../../executors/version';
import { Worker } from '../../executors/worker';
import { findCredential } from '../credentials';
import { usageError } from '../errors';
import type { Io } from '../io';

export const PLUGIN_GROUPS = ['tfjs', 'onnx', 'latency'] as const;
type PluginGroup = (typeof PLUGIN_GROUPS)[number];

export interface WorkerRequest {
  readonly servers: readonly string[];
  readonly token: string;
  readonly plugins: readonly PluginGroup[];
  readonly concurrency: number;
  readonly workDir: string;
  readonly datasetRoot: string | null;
}

interface WorkerFlags {
  readonly server?: string;
  readonly token?: string;
  readonly plugins?: string;
  readonly concurrency?: string;
  readonly 'work-dir'?: string;
  readonly 'dataset-root'?: string;
}

/**
 * Checks the worker's command line. The token is --token, else the shared secret in
 * SLIMLAB_WORKER_TOKEN, else an API token (SLIMLAB_TOKEN, or the one stored for the first server):
 * the worker routes take either, as the same Bearer header.
 */
export function workerRequest(flags: WorkerFlags, env: NodeJS.ProcessEnv): WorkerRequest {
  const servers = (flags.server ?? env.SLIMLAB_URL ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (servers.length === 0) throw usageError('worker needs --server URL[,URL...] (or SLIMLAB_URL)');
  for (const server of servers) {
    if (!/^https?:\/\/[^\s/]+/.test(server) || !URL.canParse(server)) throw usageError(`--server: "${server}" is not an http(s) URL`);
  }
  const token = flags.token || env.SLIMLAB_WORKER_TOKEN || findCredential(undefined, env, new URL(servers[0]!))?.token;
  if (!token) throw usageError("worker needs a token: --token T or SLIMLAB_WORKER_TOKEN (the server's SLIMLAB_WORKER_TOKEN), or an API token with the worker scope (SLIMLAB_TOKEN or `slimlab login`)");
  const plugins = (flags.plugins ?? PLUGIN_GROUPS.join(',')).split(',').map((p) => p.trim());
  for (const plugin of plugins) {
    if (!PLUGIN_GROUPS.includes(plugin as PluginGroup)) throw usageError(`--plugins: "${plugin}" is not one of ${PLUGIN_GROUPS.join(', ')}`);
  }
  const concurrency = Number(flags.concurrency ?? '1');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw usageError('--concurrency must be an integer from 1 to 64');
  return {
    servers,
    token,
    plugins: [...new Set(plugins as PluginGroup[])],
    concurrency,
    workDir: resolve(flags['work-dir'] ?? env.SLIMLAB_WORK_DIR ?? './slimlab-worker'),
    datasetRoot: flags['dataset-root'] ? resolve(flags['dataset-root']) : null,
  };
}

/** Builds the requested plugins with the machine's settings (ORT provider and threads from SLIMLAB_* variables). */
function pluginsFor(request: WorkerRequest, env: NodeJS.ProcessEnv, log: Logger): ExecutorPlugin[] {
  const provider = providerChoice(env);
  const threads = positive(env.SLIMLAB_ORT_THREADS, 2);
  const plugins: ExecutorPlugin[] = [];
  if (request.plugins.includes('tfjs')) plugins.push(new TfjsTrainingPlugin());
  if (request.plugins.includes('onnx')) {
    const cacheFile = resolve(request.workDir, 'cache', 'evaluations.jsonl');
    plugins.push(new OnnxSlimmingPlugin({ provider, threads, cacheFile, log }));
    plugins.push(new OnnxEvaluatePlugin({ provider, threads, cacheFile, log }));
    plugins.push(new OnnxExportPlugin({ provider, threads }));
  }
  if (request.plugins.includes('latency')) plugins.push(new LatencyProbePlugin({ provider, threads: positive(env.SLIMLAB_LATENCY_THREADS, 1) }));
  return plugins;
}

function providerChoice(env: NodeJS.ProcessEnv): ProviderChoice {
  const raw = env.SLIMLAB_ORT_PROVIDER || 'auto';
  const choice = PROVIDER_CHOICES.find((c) => c === raw);
  if (!choice) throw usageError(`SLIMLAB_ORT_PROVIDER must be one of ${PROVIDER_CHOICES.join(', ')} (got "${raw}")`);
  return choice;
}

/**
 * `slimlab worker`: runs executor plugins for a server it reaches over HTTP, until SIGTERM or
 * SIGINT (running jobs go back to the queue) or, for the embedded worker, until its parent exits.
 */
export async function runWorker(request: WorkerRequest, io: Io): Promise<void> {
  const log: Logger = { info: (m) => io.err(`[worker] ${m}\n`), warn: (m) => io.err(`[worker] ${m}\n`) };
  const registry = new ExecutorRegistry();
  const plugins = pluginsFor(request, io.env, log);
  if (request.plugins.includes('onnx') || request.plugins.includes('latency')) log.info(await describeProvider(providerChoice(io.env)));
  for (const plugin of plugins) await registry.register(plugin);
  const worker = new Worker(registry, {
    servers: request.servers,
    token: request.token,
    concurrency: request.concurrency,
    version: SLIMLAB_VERSION,
    log,
    transfer: (client) => createWorkerTransfer(client, request.workDir, request.datasetRoot),
  });
  let stop!: (reason: string) => void;
  const stopped = new Promise<string>((done) => (stop = done));
  const reasons: Record<string, () => void> = {
    SIGTERM: () => stop('SIGTERM'),
    SIGINT: () => stop('SIGINT'),
    // The embedded worker ends with the server that spawned it.
    disconnect: () => stop('server process gone'),
  };
  for (const [event, listener] of Object.entries(reasons)) process.once(event, listener);
  await worker.start();
  log.info(`worker ${worker.workerId} serving ${request.servers.join(', ')} with ${registry.list().map((e) => e.plugin.name).join(', ')}`);
  const reason = await stopped;
  log.info(`${reason}: stopping; running jobs go back to the queue`);
  await worker.stop();
  // A 'disconnect' listener keeps a forked worker's IPC channel, and so the process, alive after its work is done.
  for (const [event, listener] of Object.entries(reasons)) process.off(event, listener);
  // Already closed when the server went away first.
  if (process.connected) process.disconnect?.();
}

function positive(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
