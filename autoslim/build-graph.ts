import { ArchitectureName } from './architecture';
import { ChannelList, checkedList } from './channels';
import { GraphNode, NetworkGraph, TensorShape } from './graph';
import { NetworkOptions } from './options';
import { NETWORK_INPUT, NetworkPlan } from './plan';

/**
 * The layer graph of one configuration. Pass the supernet's widest list as `structure` for a
 * sliced configuration: node names and topology then match the supernet's, widths the config's.
 */
export function buildGraph(
  arch: ArchitectureName,
  channels: ChannelList,
  opts: NetworkOptions,
  structure?: ChannelList,
): NetworkGraph {
  // Re-checking is cheap and guards against a list branded for another architecture or options.
  const { list, plan } = checkedList(arch, channels, opts, structure);
  return instantiate(arch, plan, list, opts.inputSize);
}

function instantiate(architecture: string, plan: NetworkPlan, list: ChannelList, inputSize: number): NetworkGraph {
  const input: TensorShape = { channels: plan.inputChannels, height: inputSize, width: inputSize };
  const shapes = new Map<string, TensorShape>([[NETWORK_INPUT, input]]);
  const shapeOf = (tensor: string): TensorShape => shapes.get(tensor)!;
  const nodes = plan.layers.map((layer): GraphNode => {
    let node: GraphNode;
    switch (layer.kind) {
      case 'conv': {
        const inShape = shapeOf(layer.input);
        const outChannels = list[layer.slot];
        const padding = layer.kernel >> 1;
        node = {
          op: 'conv',
          name: layer.name,
          inputs: [layer.input],
          inShape,
          outShape: downsample(outChannels, inShape, layer.kernel, layer.stride, padding),
          inChannels: inShape.channels,
          outChannels,
          kernel: layer.kernel,
          stride: layer.stride,
          padding,
          groups: layer.depthwise ? outChannels : 1,
          batchNorm: true,
          activation: layer.activation,
        };
        break;
      }
      case 'add': {
        const inShape = shapeOf(layer.inputs[0]);
        node = { op: 'add', name: layer.name, inputs: layer.inputs, inShape, outShape: inShape, activation: layer.activation };
        break;
      }
      case 'maxPool': {
        const inShape = shapeOf(layer.input);
        const padding = layer.kernel >> 1;
        node = {
          op: 'maxPool',
          name: layer.name,
          inputs: [layer.input],
          inShape,
          outShape: downsample(inShape.channels, inShape, layer.kernel, layer.stride, padding),
          kernel: layer.kernel,
          stride: layer.stride,
          padding,
        };
        break;
      }
      case 'globalAvgPool': {
        const inShape = shapeOf(layer.input);
        const outShape = { channels: inShape.channels, height: 1, width: 1 };
        node = { op: 'globalAvgPool', name: layer.name, inputs: [layer.input], inShape, outShape };
        break;
      }
      case 'linear': {
        const inShape = shapeOf(layer.input);
        const outFeatures = list[layer.slot];
        node = {
          op: 'linear',
          name: layer.name,
          inputs: [layer.input],
          inShape,
          outShape: { channels: outFeatures, height: 1, width: 1 },
          inFeatures: inShape.channels,
          outFeatures,
        };
        break;
      }
    }
    shapes.set(node.name, node.outShape);
    return node;
  });
  return { architecture, input, nodes };
}

function downsample(channels: number, shape: TensorShape, kernel: number, stride: number, padding: number): TensorShape {
  const size = (extent: number) => Math.floor((extent + 2 * padding - kernel) / stride) + 1;
  return { channels, height: size(shape.height), width: size(shape.width) };
}
