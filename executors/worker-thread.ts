/** Starting a worker thread on one of this project's TypeScript modules, compiled or not. */
import { extname, join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Runs module `name` of `directory` (the caller's `__dirname`) in a worker thread. Compiled (dist/),
 * that is the .js file there. Run from sources (tsx, ts-jest), this file is .ts and a new thread has
 * no TypeScript loader (jest's transform lives only in the test's realm), so the worker registers
 * tsx's CommonJS hook first; tsx is a devDependency, present wherever sources are run.
 */
export function startModuleWorker(directory: string, name: string, options: WorkerOptions): Worker {
  const extension = extname(__filename);
  const file = join(directory, `${name}${extension}`);
  if (extension !== '.ts') return new Worker(file, options);
  const tsx = require.resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}
