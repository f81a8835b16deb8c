/**
 * A fixed set of replica workers (replica_worker.ts), each answering one shard per step. Any
 * failure (an error thrown in a step, a crash, an exit) breaks the whole pool: its workers are
 * terminated and the step, and every later one, rejects with that error. Aborting a step
 * terminates the workers at once, so a cancelled job stops computing mid-step.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../worker-thread';
import type { ReplicaInit, ReplicaMessage, ShardRequest, ShardResult } from './protocol';

export type ShardWork = Omit<ShardRequest, 'id'>;

interface Pending {
  readonly id: number;
  resolve(result: ShardResult): void;
  reject(error: Error): void;
}

class Replica {
  readonly ready: Promise<void>;
  exited = false;
  private pending: Pending | null = null;
  private markReady!: () => void;
  private failReady!: (error: Error) => void;

  constructor(
    private readonly worker: Worker,
    private readonly label: string,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // The pool rejects every caller itself; this copy must not count as unhandled.
    this.ready.catch(() => undefined);
    worker.on('message', (m: ReplicaMessage) => this.receive(m));
    worker.on('error', (err) => this.onFailure(this.error(err.message, err.stack)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.onFailure(new Error(`${this.label} exited with code ${code}`));
    });
  }

  send(work: ShardWork, id: number): Promise<ShardResult> {
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.worker.ref();
      this.worker.postMessage({ ...work, id } satisfies ShardRequest, [work.weights.buffer as ArrayBuffer, work.images.buffer as ArrayBuffer, work.labels.buffer as ArrayBuffer]);
    });
  }

  fail(error: Error): void {
    this.failReady(error);
    this.pending?.reject(error);
    this.pending = null;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private receive(m: ReplicaMessage): void {
    switch (m.type) {
      case 'ready':
        // Starting and running steps keep the process alive; an idle pool does not.
        this.worker.unref();
        this.markReady();
        return;
      case 'error':
        this.onFailure(this.error(m.message, m.stack));
        return;
      case 'result':
        if (this.pending?.id !== m.id) return;
        this.worker.unref();
        this.pending.resolve(m);
        this.pending = null;
    }
  }

  private error(message: string, stack: string | undefined): Error {
    const error = new Error(`${this.label}: ${message}`);
    if (stack) error.stack = `${error.message}\n${stack.split('\n').slice(1).join('\n')}`;
    return error;
  }
}

export class ReplicaPool {
  private readonly replicas: Replica[];
  private failure: Error | null = null;
  private nextId = 1;

  private constructor(count: number, init: ReplicaInit) {
    this.replicas = Array.from(
      { length: count },
      (_, i) => new Replica(startModuleWorker(__dirname, 'replica_worker', { workerData: init }), `data-parallel worker ${i + 1} of ${count}`, (err) => this.fail(err)),
    );
  }

  /** Starts `count` workers and resolves once every one has loaded its backend and network. */
  static async start(count: number, init: ReplicaInit): Promise<ReplicaPool> {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a replica pool needs a positive integer of workers, got ${count}`);
    const pool = new ReplicaPool(count, init);
    try {
      await Promise.all(pool.replicas.map((r) => r.ready));
    } catch (err) {
      await pool.terminate();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.replicas.length;
  }

  /** Workers whose thread has not exited yet. */
  get running(): number {
    return this.replicas.filter((r) => !r.exited).length;
  }

  /** Runs `shards[i]` on replica i (at most `size` shards); results come back in shard order. */
  run(shards: readonly ShardWork[], signal: AbortSignal): Promise<ShardResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (signal.aborted) return Promise.reject(signal.reason);
    if (shards.length > this.replicas.length) return Promise.reject(new Error(`${shards.length} shards for ${this.replicas.length} workers`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.fail(new Error('data-parallel workers stopped: the step was aborted'));
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.all(shards.map((work, i) => this.replicas[i]!.send(work, id)))
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Stops every worker; later steps reject. Safe to call more than once. */
  async terminate(): Promise<void> {
    this.fail(new Error('data-parallel workers were terminated'));
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const r of this.replicas) {
      r.fail(error);
      void r.terminate();
    }
  }
}
