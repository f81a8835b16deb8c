import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../executors/contract';
import type { ServerConfig } from './config';

export interface SupervisedWorker {
  /** SIGTERM, then waits for the worker to hand its jobs back (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before dying is restarted at once, not after a growing delay. */
const HEALTHY_RUN_MS = 60_000;
const STOP_GRACE_MS = 30_000;

/**
 * Runs the embedded default's worker as a child process speaking the worker protocol to this
 * server over loopback, and restarts it (with backoff) whenever it dies. The token travels in the
 * child's environment, never on its command line (where `ps` would show it).
 */
export function superviseWorker(options: { server: string; token: string; config: ServerConfig; log: Logger }): SupervisedWorker {
  const { config, log } = options;
  let child: ChildProcess | null = null;
  let stopping = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | null = null;

  const start = () => {
    const startedAt = Date.now();
    const { entry, execArgv } = cliEntry();
    const args = [
      'worker',
      '--server',
      options.server,
      '--concurrency',
      String(config.workerConcurrency),
      '--work-dir',
      join(config.dataDir, 'worker'),
    ];
    child = fork(entry, args, {
      execArgv,
      env: {
        ...process.env,
        // The plugins run in the child now: it gets the server's settings, not only its environment.
        SLIMLAB_ORT_PROVIDER: config.ortProvider,
        SLIMLAB_ORT_THREADS: String(config.ortThreads),
        SLIMLAB_LATENCY_THREADS: String(config.latencyThreads),
        SLIMLAB_WORKER_TOKEN: options.token,
      },
      stdio: 'inherit',
    });
    log.info(`worker process ${child.pid} started`);
    child.once('exit', (code, signal) => {
      child = null;
      if (stopping) return;
      failures = Date.now() - startedAt > HEALTHY_RUN_MS ? 0 : failures + 1;
      const wait = failures === 0 ? 0 : Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (failures - 1));
      log.warn(`worker process exited (${signal ?? `code ${code}`}); restarting it in ${wait / 1000} s`);
      restartTimer = setTimeout(start, wait);
    });
  };
  start();

  return {
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const running = child;
      if (!running) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const killer = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The CLI that runs `slimlab worker`: compiled JS beside this file, or the TypeScript source under tsx. */
function cliEntry(): { entry: string; execArgv: string[] } {
  const source = __filename.endsWith('.ts');
  return { entry: join(__dirname, '..', 'cli', source ? 'main.ts' : 'main.js'), execArgv: source ? ['--import', 'tsx'] : [] };
}
