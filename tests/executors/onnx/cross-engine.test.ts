import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { buildGraph, defaultChannels, parseChannelList, type ArchitectureName, type NetworkGraph } from '../../../autoslim';
import { buildModel, createEvaluator, exportStandalone, labelledImages, randomWeights, recalibrateBatchNorm, type BatchNormMode } from '../../../executors/onnx';
import { Rng } from '../../../executors/rng';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { smoothedCrossEntropy } from '../../../executors/tfjs/losses';
import { SlimmableNetwork, type Normalization } from '../../../executors/tfjs/supernet';
import { decodeSafetensors, encodeSafetensors } from '../../../executors/weights';
import { maxAbsDifference, runOutput } from './run-model';

/**
 * The engine that trains (tfjs, NHWC) and the one that searches and exports (ONNX Runtime, NCHW)
 * must compute the same function from one checkpoint. Three colour channels, because with one
 * NCHW and NHWC hold the same values in the same order and a layout slip would pass unseen.
 */
const SIZE = 32;
const CLASSES = 10;
const COUNT = 12;
const OPTIONS = { inputSize: SIZE, numClasses: CLASSES };

/** Pixels in [0, 1] with a different level per channel and a ramp along x, so neither a channel swap nor a transposition maps the batch onto itself. */
function colourImages(seed: number): Float32Array {
  const rng = new Rng(seed);
  const images = new Float32Array(COUNT * 3 * SIZE * SIZE);
  for (let n = 0; n < COUNT; n++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) images[((n * 3 + c) * SIZE + y) * SIZE + x] = 0.5 * rng.nextFloat() + 0.15 * c + (0.2 * x) / SIZE;
      }
    }
  }
  return images;
}

/** NCHW to NHWC by index arithmetic, independently of any tfjs op. */
function toNhwc(nchw: Float32Array): Float32Array {
  const out = new Float32Array(nchw.length);
  for (let n = 0; n < nchw.length / (3 * SIZE * SIZE); n++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < SIZE * SIZE; p++) out[(n * SIZE * SIZE + p) * 3 + c] = nchw[(n * 3 + c) * SIZE * SIZE + p]!;
    }
  }
  return out;
}

function labelsOf(seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: COUNT }, () => Math.floor(rng.nextFloat() * CLASSES));
}

/** The supernet at its widest and a narrower configuration of it, whose weights are first-k slices. */
function graphs(architecture: ArchitectureName, widest: number, narrower: number): { supernet: NetworkGraph; config: NetworkGraph } {
  const structure = defaultChannels(architecture, widest, OPTIONS);
  const channels = parseChannelList(architecture, defaultChannels(architecture, narrower, OPTIONS), OPTIONS, structure);
  return { supernet: buildGraph(architecture, structure, OPTIONS, structure), config: buildGraph(architecture, channels, OPTIONS, structure) };
}

function onnxInput(nchw: Float32Array): ort.Tensor {
  return new ort.Tensor('float32', nchw, [COUNT, 3, SIZE, SIZE]);
}

/** Largest difference relative to the reference logits' magnitude. */
function logitError(actual: Float32Array, reference: Float32Array): number {
  return maxAbsDifference(actual, reference) / (1 + Math.max(...reference.map(Math.abs)));
}

function argmax(row: Float32Array): number {
  return row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);
}

/** What the tfjs trainer's BN mode is for each ONNX mode: folding changes the graph, not the function. */
const TFJS_MODE: Record<BatchNormMode, Normalization> = { batch: 'batch', running: 'running', folded: 'running' };

beforeAll(async () => {
  // The backend training jobs run on (wasm here), with its own BN kernels.
  await selectTrainingBackend(() => undefined);
});

describe.each([
  ['resnet-cifar', 1, 0.5],
  ['mobilenet-v2', 0.5, 0.35],
] as const)('tfjs and ONNX Runtime on 3-channel %s input', (architecture, widest, narrower) => {
  const { supernet, config } = graphs(architecture, widest, narrower);
  // A checkpoint as the trainer writes it: canonical layouts in safetensors, with BN statistics far from 0 and 1.
  const checkpoint = decodeSafetensors(encodeSafetensors(randomWeights(supernet, 11), { architecture })).tensors;
  const images = colourImages(12);
  const labels = labelsOf(13);
  let network: SlimmableNetwork;

  beforeAll(() => {
    expect(supernet.input).toEqual({ channels: 3, height: SIZE, width: SIZE });
    expect(config.nodes.some((n, i) => n.outShape.channels < supernet.nodes[i]!.outShape.channels)).toBe(true);
    network = new SlimmableNetwork(supernet, 0);
    network.importWeights(checkpoint);
  });

  afterAll(() => network.dispose());

  function tfjsForward(mode: Normalization, nchw = images): { logits: Float32Array; loss: number } {
    return tf.tidy(() => {
      const logits = network.forward(config, tf.tensor4d(toNhwc(nchw), [COUNT, SIZE, SIZE, 3]), mode);
      const mean = smoothedCrossEntropy(logits, tf.tensor1d(labels, 'int32'), 0);
      return { logits: logits.dataSync() as Float32Array, loss: mean.dataSync()[0]! * COUNT };
    });
  }

  it.each(['batch', 'running', 'folded'] as const)('gives the same logits, loss and top-1 with %s BN', async (batchNorm) => {
    const reference = tfjsForward(TFJS_MODE[batchNorm]);
    const logits = await runOutput(buildModel(config, checkpoint, { batchNorm, head: 'logits', masked: false }), { input: onnxInput(images) }, 'logits');
    expect(logitError(logits, reference.logits)).toBeLessThan(1e-4);

    const data = labelledImages(images, labels, config.input);
    const evaluator = await createEvaluator({ provider: 'cpu', threads: 1 });
    const expectedTop1 = labels.filter((label, n) => argmax(reference.logits.subarray(n * CLASSES, (n + 1) * CLASSES)) === label).length;
    // The search scores configurations with the masked widest graph; one-off evaluations build the sliced one.
    const masked = await evaluator.openSupernet(supernet, checkpoint, batchNorm, COUNT);
    for (const result of [await evaluator.evaluate({ graph: config, weights: checkpoint, batchNorm }, data, COUNT), await masked.evaluate(config, data)]) {
      expect(Math.abs(result.loss - reference.loss) / COUNT).toBeLessThan(1e-4);
      expect(result.top1).toBe(expectedTop1);
    }
    await masked.release();
  });

  it.each(['running', 'folded'] as const)('exports a %s-BN file that normalizes raw pixels per channel as the loader does for the trainer', async (batchNorm) => {
    const normalization = { mean: [0.3, 0.45, 0.6], std: [0.2, 0.25, 0.3] };
    const plane = SIZE * SIZE;
    const normalized = images.map((v, i) => {
      const c = Math.floor(i / plane) % 3;
      return (v - normalization.mean[c]!) / normalization.std[c]!;
    });
    const reference = tfjsForward('running', normalized);
    const logits = await runOutput(exportStandalone(config, checkpoint, batchNorm, normalization), { input: onnxInput(images) }, 'logits');
    expect(logitError(logits, reference.logits)).toBeLessThan(1e-4);
  });

  it('recalibrates the running statistics the tfjs trainer recalibrates, and then computes the same logits', async () => {
    const half = (COUNT / 2) * 3 * SIZE * SIZE;
    const batches = [images.subarray(0, half), images.subarray(half)].map((part) => ({ images: part, count: COUNT / 2 }));
    const recalibrated = await recalibrateBatchNorm(config, checkpoint, batches, { provider: 'cpu', threads: 1 });
    const fresh = new SlimmableNetwork(supernet, 0);
    try {
      fresh.importWeights(checkpoint);
      fresh.recalibrateBatchNorm(config, batches.map((b) => tf.tensor4d(toNhwc(b.images), [b.count, SIZE, SIZE, 3])));
      const reference = fresh.exportWeights();
      for (const conv of config.nodes.filter((n) => n.op === 'conv')) {
        for (const stat of ['mean', 'var']) {
          const name = `${conv.name}.bn.${stat}`;
          const actual = recalibrated.get(name)!.data;
          const expected = reference.get(name)!.data.subarray(0, actual.length);
          expect(actual.length).toBe(conv.outShape.channels);
          // Both engines take the variance as E[x²] − E[x]² in float32, which loses digits where the mean is large.
          actual.forEach((v, c) => expect(Math.abs(v - expected[c]!)).toBeLessThan(1e-3 * (1 + Math.abs(expected[c]!))));
        }
      }
      const expected = tf.tidy(() => fresh.forward(config, tf.tensor4d(toNhwc(images), [COUNT, SIZE, SIZE, 3]), 'running').dataSync() as Float32Array);
      const logits = await runOutput(buildModel(config, recalibrated, { batchNorm: 'running', head: 'logits', masked: false }), { input: onnxInput(images) }, 'logits');
      expect(logitError(logits, expected)).toBeLessThan(1e-4);
    } finally {
      fresh.dispose();
    }
  });
});
