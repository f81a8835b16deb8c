/**
 * Worker-thread entry of one decoder of the decode pool (decode-pool.ts): it reads and decodes the
 * samples of each task, keeps decoded images in its share of the cache, and renders them into one
 * Float32Array per task. Tasks run one at a time in the order they came. The pool ends the thread by
 * terminating it; the record files its reader keeps open are closed by Node then (trackUnmanagedFds).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest, DecodeWorkerData, RenderTask } from './decode-protocol';
import { DecodedCache } from './decoded-cache';
import type { Planar, SampleRef } from './sample';
import { SampleReader, sampleSource } from './sample-reader';
import { render } from './transforms';

const port = parentPort!;
const { cacheBytes, limits, shared } = workerData as DecodeWorkerData;
const cache = new DecodedCache(cacheBytes);
const reader = new SampleReader(limits, shared);
let queue = Promise.resolve();

function post(reply: DecodeReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer);
}

/**
 * Shared-memory refs are not cached: their view costs nothing to make and nothing to keep, and
 * counting them would only blur the hit rate of the images that do cost.
 */
async function load(sample: number, ref: SampleRef): Promise<Planar> {
  if (ref.kind === 'shared') return reader.read(ref);
  const cached = cache.get(sample);
  if (cached) return cached;
  const image = await reader.read(ref);
  cache.put(sample, image);
  return image;
}

async function run(task: RenderTask): Promise<{ images: Float32Array<ArrayBuffer>; skipped: number[] }> {
  const size = task.out.channels * task.out.height * task.out.width;
  let images = new Float32Array(task.items.length * size);
  const skipped: number[] = [];
  for (const [position, { sample, ref, plan }] of task.items.entries()) {
    let image: Planar;
    try {
      image = await load(sample, ref);
    } catch (error) {
      if (!task.skipCorrupt) throw error;
      skipped.push(position);
      continue;
    }
    try {
      render(image, plan, task.out, task.norm, images, (position - skipped.length) * size);
    } catch (error) {
      // A plan that does not fit its image is the caller's mistake, never skipped as corrupt data.
      throw new Error(`${sampleSource(ref)}: ${(error as Error).message}`);
    }
  }
  // Kept images are packed from the start, so only a task that skipped some pays for a copy.
  if (skipped.length > 0) images = images.slice(0, (task.items.length - skipped.length) * size);
  return { images, skipped };
}

async function answer(task: RenderTask): Promise<void> {
  try {
    const { images, skipped } = await run(task);
    post({ type: 'rendered', id: task.id, images, skipped }, [images.buffer]);
  } catch (error) {
    post({ type: 'failed', id: task.id, error: error instanceof Error ? error.message : String(error) });
  }
}

port.on('message', (request: DecodeRequest) => {
  switch (request.type) {
    case 'render':
      queue = queue.then(() => answer(request));
      return;
    case 'stats':
      post({ type: 'stats', id: request.id, stats: cache.stats() });
  }
});

post({ type: 'ready' });
