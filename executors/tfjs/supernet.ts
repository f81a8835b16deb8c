/**
 * A slimmable network on TensorFlow.js: one variable per weight at the supernet's maximum width,
 * and a forward pass for any configuration of that supernet that slices the first k channels.
 * Batch norm keeps one set of statistics per layer at maximum width (the AutoSlim approach);
 * running statistics for a chosen configuration come from `recalibrateBatchNorm`.
 *
 * Layouts are the ones tfjs runs fastest (conv HWIO, depthwise [kh, kw, C, 1], linear [in, out]);
 * checkpoints convert to the canonical layouts of executors/weights.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvNode, GraphNode, LinearNode, NetworkGraph } from '../../autoslim/graph';
import { Tensor as WeightTensor, WeightMap } from '../weights';
import { activate, batchNormActivationTraining, batchNormInference, batchStatistics } from './batch_norm';
import { Rng } from '../rng';

/** 'batch': training-mode BN on the batch's own statistics; 'running': the recalibrated ones. */
export type Normalization = 'batch' | 'running';

interface ConvParams {
  readonly kind: 'conv';
  readonly depthwise: boolean;
  readonly weight: tf.Variable<tf.Rank.R4>;
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta: tf.Variable<tf.Rank.R1>;
  readonly runningMean: tf.Variable<tf.Rank.R1>;
  readonly runningVar: tf.Variable<tf.Rank.R1>;
}

interface LinearParams {
  readonly kind: 'linear';
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1>;
}

/** A trainable variable and whether SGD applies weight decay to it. */
export interface TrainableParameter {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly weightDecay: boolean;
  /** Permutation from the tfjs layout to the checkpoint layout; null when they agree. */
  readonly toCanonical: readonly number[] | null;
}

/** HWIO → OIHW; depthwise [kh, kw, C, 1] → [C, 1, kh, kw]; linear [in, out] → [out, in]. */
const CONV_TO_OIHW = [3, 2, 0, 1];
const DEPTHWISE_TO_OIHW = [2, 3, 0, 1];
const LINEAR_TO_OUT_IN = [1, 0];

type BatchStatsSink = (node: string, mean: tf.Tensor1D, variance: tf.Tensor1D) => void;

export class SlimmableNetwork {
  private readonly params = new Map<string, ConvParams | LinearParams>();
  readonly trainable: readonly TrainableParameter[];
  /** Batch-norm running statistics: state, but never trained. */
  private readonly statistics: { readonly name: string; readonly variable: tf.Variable }[] = [];

  /** `supernet` is the graph at maximum width; its node names key every weight. */
  constructor(readonly supernet: NetworkGraph, seed: number) {
    const rng = new Rng(seed);
    const trainable: TrainableParameter[] = [];
    for (const node of supernet.nodes) {
      if (node.op === 'conv') {
        if (!node.batchNorm) throw new Error(`node ${node.name}: convs without batch norm are not supported by the tfjs trainer`);
        const p = createConv(node, rng);
        this.params.set(node.name, p);
        trainable.push(
          {
            name: `${node.name}.weight`,
            variable: p.weight,
            weightDecay: !p.depthwise,
            toCanonical: p.depthwise ? DEPTHWISE_TO_OIHW : CONV_TO_OIHW,
          },
          { name: `${node.name}.bn.gamma`, variable: p.gamma, weightDecay: false, toCanonical: null },
          { name: `${node.name}.bn.beta`, variable: p.beta, weightDecay: false, toCanonical: null },
        );
        this.statistics.push(
          { name: `${node.name}.bn.mean`, variable: p.runningMean },
          { name: `${node.name}.bn.var`, variable: p.runningVar },
        );
      } else if (node.op === 'linear') {
        const p = createLinear(node, rng);
        this.params.set(node.name, p);
        trainable.push(
          { name: `${node.name}.weight`, variable: p.weight, weightDecay: true, toCanonical: LINEAR_TO_OUT_IN },
          { name: `${node.name}.bias`, variable: p.bias, weightDecay: false, toCanonical: null },
        );
      }
    }
    this.trainable = trainable;
  }

  /** Logits [N, classes] of `config` (a configuration of this supernet) for NHWC `input`. */
  forward(config: NetworkGraph, input: tf.Tensor4D, normalization: Normalization, onBatchStats?: BatchStatsSink): tf.Tensor2D {
    this.checkConfig(config);
    const values = new Map<string, tf.Tensor>([['input', input]]);
    for (const node of config.nodes) {
      values.set(node.name, this.apply(node, node.inputs.map((name) => values.get(name)!), normalization, onBatchStats));
    }
    return values.get(config.nodes[config.nodes.length - 1]!.name) as tf.Tensor2D;
  }

  /**
   * Sets the running statistics of `config`'s channels to the cumulative average of the batch
   * statistics over `batches`; channels beyond the config's widths keep their values.
   */
  recalibrateBatchNorm(config: NetworkGraph, batches: Iterable<tf.Tensor4D>): void {
    const sums = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
    let count = 0;
    for (const batch of batches) {
      tf.tidy(() => {
        this.forward(config, batch, 'batch', (node, mean, variance) => {
          const prev = sums.get(node);
          sums.set(node, {
            mean: tf.keep(prev ? tf.add(prev.mean, mean) : mean),
            variance: tf.keep(prev ? tf.add(prev.variance, variance) : variance),
          });
          if (prev) tf.dispose([prev.mean, prev.variance]);
        });
      });
      count++;
    }
    if (count === 0) throw new Error('recalibrateBatchNorm: batches must hold at least one batch');
    for (const [node, sum] of sums) {
      const p = this.params.get(node) as ConvParams;
      tf.tidy(() => {
        p.runningMean.assign(overwritePrefix(p.runningMean, tf.div(sum.mean, count)));
        p.runningVar.assign(overwritePrefix(p.runningVar, tf.div(sum.variance, count)));
      });
      tf.dispose([sum.mean, sum.variance]);
    }
  }

  /** Every tensor at maximum width in the canonical checkpoint layout (executors/weights.ts). */
  exportWeights(): Map<string, WeightTensor> {
    const out = new Map<string, WeightTensor>();
    for (const p of this.trainable) out.set(p.name, toCanonicalHost(p.variable, p.toCanonical));
    for (const s of this.statistics) out.set(s.name, toCanonicalHost(s.variable, null));
    return out;
  }

  /** Loads weights in the canonical layout; every tensor must be present at maximum width. */
  importWeights(weights: WeightMap): void {
    tf.tidy(() => {
      for (const p of this.trainable) p.variable.assign(fromCanonical(weights, p.name, p.variable.shape, p.toCanonical));
      for (const s of this.statistics) s.variable.assign(fromCanonical(weights, s.name, s.variable.shape, null));
    });
  }

  dispose(): void {
    tf.dispose([...this.trainable.map((p) => p.variable), ...this.statistics.map((s) => s.variable)]);
  }

  private apply(node: GraphNode, inputs: tf.Tensor[], normalization: Normalization, onBatchStats?: BatchStatsSink): tf.Tensor {
    switch (node.op) {
      case 'conv':
        return this.conv(node, inputs[0] as tf.Tensor4D, normalization, onBatchStats);
      case 'add':
        return activate(tf.add(inputs[0]!, inputs[1]!), node.activation);
      case 'maxPool':
        return tf.maxPool(inputs[0] as tf.Tensor4D, node.kernel, node.stride, node.padding);
      case 'globalAvgPool':
        return tf.mean(inputs[0]!, [1, 2]);
      case 'linear': {
        const p = this.params.get(node.name) as LinearParams;
        const weight = prefix(p.weight, [node.inFeatures, node.outFeatures]);
        return tf.add(tf.matMul(inputs[0] as tf.Tensor2D, weight), prefix(p.bias, [node.outFeatures]));
      }
    }
  }

  private conv(node: ConvNode, x: tf.Tensor4D, normalization: Normalization, onBatchStats?: BatchStatsSink): tf.Tensor {
    const p = this.params.get(node.name) as ConvParams;
    const pad = node.padding;
    const explicit: tf.backend_util.ExplicitPadding = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
    const [kh, kw] = p.weight.shape;
    const y = p.depthwise
      ? tf.depthwiseConv2d(x, prefix(p.weight, [kh, kw, node.outChannels, 1]), node.stride, explicit)
      : tf.conv2d(x, prefix(p.weight, [kh, kw, node.inChannels, node.outChannels]), node.stride, explicit);
    const width = [node.outChannels];
    const gamma = prefix(p.gamma, width);
    const beta = prefix(p.beta, width);
    if (normalization === 'running') {
      return activate(batchNormInference(y, prefix(p.runningMean, width), prefix(p.runningVar, width), gamma, beta), node.activation);
    }
    if (onBatchStats) {
      const stats = batchStatistics(y);
      onBatchStats(node.name, stats.mean, stats.variance);
    }
    return batchNormActivationTraining(y, gamma, beta, node.activation);
  }

  private checkConfig(config: NetworkGraph): void {
    if (config.nodes.length !== this.supernet.nodes.length) {
      throw new Error(`config: has ${config.nodes.length} nodes, the supernet ${this.supernet.nodes.length}; it must be a configuration of this supernet`);
    }
    config.nodes.forEach((node, i) => {
      const wide = this.supernet.nodes[i]!;
      if (node.name !== wide.name || node.op !== wide.op) {
        throw new Error(`config: node ${i} is ${node.op} ${node.name}, the supernet has ${wide.op} ${wide.name} there`);
      }
      if (node.outShape.channels > wide.outShape.channels) {
        throw new Error(`config: node ${node.name} has ${node.outShape.channels} channels, above the supernet's ${wide.outShape.channels}`);
      }
    });
  }
}

function createConv(node: ConvNode, rng: Rng): ConvParams {
  const depthwise = node.groups > 1;
  if (depthwise && (node.groups !== node.inChannels || node.groups !== node.outChannels)) {
    throw new Error(`node ${node.name}: grouped convs other than depthwise are not supported by the tfjs trainer`);
  }
  const k = node.kernel;
  const shape: [number, number, number, number] = depthwise ? [k, k, node.outChannels, 1] : [k, k, node.inChannels, node.outChannels];
  // Kaiming normal with fan-out, as torchvision initialises MobileNet convs.
  const fanOut = (node.outChannels * k * k) / node.groups;
  const channels = node.outChannels;
  return {
    kind: 'conv',
    depthwise,
    weight: variableOf(randomNormal(rng, shape, Math.sqrt(2 / fanOut)), true) as tf.Variable<tf.Rank.R4>,
    gamma: variableOf(tf.ones([channels]), true) as tf.Variable<tf.Rank.R1>,
    beta: variableOf(tf.zeros([channels]), true) as tf.Variable<tf.Rank.R1>,
    runningMean: variableOf(tf.zeros([channels]), false) as tf.Variable<tf.Rank.R1>,
    runningVar: variableOf(tf.ones([channels]), false) as tf.Variable<tf.Rank.R1>,
  };
}

function createLinear(node: LinearNode, rng: Rng): LinearParams {
  return {
    kind: 'linear',
    weight: variableOf(randomNormal(rng, [node.inFeatures, node.outFeatures], 0.01), true) as tf.Variable<tf.Rank.R2>,
    bias: variableOf(tf.zeros([node.outFeatures]), true) as tf.Variable<tf.Rank.R1>,
  };
}

/** A variable holding `initial`'s data; the initial tensor itself is released. */
function variableOf(initial: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}

function randomNormal(rng: Rng, shape: number[], std: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.nextNormal() * std), shape);
}

/** The leading `shape` block of a supernet tensor; the tensor itself when nothing is cut. */
function prefix<T extends tf.Tensor>(t: T, shape: number[]): T {
  return shape.every((d, i) => d === t.shape[i]) ? t : (tf.slice(t, shape.map(() => 0), shape) as T);
}

function overwritePrefix(full: tf.Tensor1D, head: tf.Tensor1D): tf.Tensor1D {
  const rest = full.shape[0] - head.shape[0];
  return rest === 0 ? head : tf.concat([head, tf.slice(full, [head.shape[0]], [rest])]);
}

/** A host copy of `t`, permuted to the checkpoint layout. */
export function toCanonicalHost(t: tf.Tensor, toCanonical: readonly number[] | null): WeightTensor {
  const permuted = toCanonical ? tf.transpose(t, [...toCanonical]) : t;
  const host = { shape: permuted.shape, data: (permuted.dataSync() as Float32Array).slice() };
  if (permuted !== t) permuted.dispose();
  return host;
}

/** Tensor `name` of a checkpoint, checked against `shape` and permuted back to the tfjs layout. */
export function fromCanonical(weights: WeightMap, name: string, shape: readonly number[], toCanonical: readonly number[] | null): tf.Tensor {
  const t = weights.get(name);
  if (!t) throw new Error(`weights: tensor ${name} is missing`);
  const expected = toCanonical ? toCanonical.map((axis) => shape[axis]!) : [...shape];
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`weights: tensor ${name} has shape [${t.shape.join(', ')}], expected [${expected.join(', ')}]`);
  }
  return tf.tidy(() => {
    const canonical = tf.tensor(t.data, expected);
    return toCanonical ? tf.transpose(canonical, inversePermutation(toCanonical)) : canonical;
  });
}

function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((axis, i) => (inverse[axis] = i));
  return inverse;
}
