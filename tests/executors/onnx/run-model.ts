import * as ort from 'onnxruntime-node';
import { Rng } from '../../../executors/rng';

/** Runs a model on the CPU provider and returns one output. */
export async function runOutput(model: Uint8Array, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    return (await session.run(feeds))[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

export function randomImages(count: number, perImage: number, seed: number): Float32Array {
  const rng = new Rng(seed >>> 0);
  return Float32Array.from({ length: count * perImage }, () => 2 * rng.nextFloat() - 1);
}

export function randomLabels(count: number, classes: number, seed: number): Int32Array {
  const rng = new Rng(seed >>> 0);
  return Int32Array.from({ length: count }, () => Math.floor(rng.nextFloat() * classes));
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
}
