/**
 * The layer graph every engine consumes: autoslim/ builds it from an architecture and a channel
 * list, the tfjs trainer and the ONNX exporter turn it into computation, the profiler counts it.
 *
 * Widths in a graph are the widths of one concrete configuration. Node names are stable across
 * configurations of one search space, so a supernet weight stored under a node's name at maximum
 * width is sliced to the first `outChannels` (and first `inChannels / groups`) entries for any
 * smaller configuration.
 */

export type Activation = 'none' | 'relu' | 'relu6';

export interface TensorShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

interface NodeBase {
  /** Stable across configurations; names the weights this node owns. */
  readonly name: string;
  /** Names of the tensors consumed: 'input' or another node's `name`. */
  readonly inputs: readonly string[];
  readonly inShape: TensorShape;
  readonly outShape: TensorShape;
}

/** Convolution without bias, optionally followed by batch norm and an activation. */
export interface ConvNode extends NodeBase {
  readonly op: 'conv';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  /** 1 for a dense conv; equal to inChannels and outChannels for a depthwise conv. */
  readonly groups: number;
  readonly batchNorm: boolean;
  readonly activation: Activation;
}

/** Elementwise sum of two tensors of one shape, optionally followed by an activation. */
export interface AddNode extends NodeBase {
  readonly op: 'add';
  readonly activation: Activation;
}

export interface MaxPoolNode extends NodeBase {
  readonly op: 'maxPool';
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

/** Global average pooling to 1×1, flattened to a vector of `channels`. */
export interface GlobalAvgPoolNode extends NodeBase {
  readonly op: 'globalAvgPool';
}

/** Fully connected layer with bias; the classifier. */
export interface LinearNode extends NodeBase {
  readonly op: 'linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
}

export type GraphNode = ConvNode | AddNode | MaxPoolNode | GlobalAvgPoolNode | LinearNode;

export interface NetworkGraph {
  readonly architecture: string;
  readonly input: TensorShape;
  /** In topological order; the last node produces the logits. */
  readonly nodes: readonly GraphNode[];
}
