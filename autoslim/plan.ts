import { Activation } from './graph';

/**
 * The topology of a network with its widths still symbolic: every conv and linear layer names the
 * channel-list slot its output width comes from. One plan serves every configuration of a search
 * space (it is derived from the structure list), so the graph, the coupling rules and the unit
 * table all come from the same source.
 */

export type PlannedLayer =
  | {
      readonly kind: 'conv';
      readonly name: string;
      readonly input: string;
      /** The channel-list slot giving the output width; a depthwise conv reuses its input's slot. */
      readonly slot: number;
      readonly kernel: number;
      readonly stride: number;
      readonly depthwise: boolean;
      readonly activation: Activation;
    }
  | { readonly kind: 'add'; readonly name: string; readonly inputs: readonly [string, string]; readonly activation: Activation }
  | { readonly kind: 'maxPool'; readonly name: string; readonly input: string; readonly kernel: number; readonly stride: number }
  | { readonly kind: 'globalAvgPool'; readonly name: string; readonly input: string }
  | { readonly kind: 'linear'; readonly name: string; readonly input: string; readonly slot: number };

/** Two channel-list slots that must hold the same width, and why. */
export interface Coupling {
  readonly slots: readonly [number, number];
  readonly reason: string;
}

export interface NetworkPlan {
  readonly inputChannels: number;
  readonly layers: readonly PlannedLayer[];
  readonly couplings: readonly Coupling[];
  /** A readable name per channel-list slot, e.g. 'stem', 'blocks.3.mid', 'classes'. */
  readonly slotNames: readonly string[];
  /** The slot holding the class count, which is fixed by the dataset. */
  readonly classesSlot: number;
  /** The largest factor any tensor is strided down by: below it, deep layers see only padding. */
  readonly totalStride: number;
}

/** The tensor name of the network input (graph.ts convention); it has no channel-list slot. */
export const NETWORK_INPUT = 'input';

/** Accumulates a plan layer by layer; each method returns the name of the tensor it produced. */
export class PlanBuilder {
  private readonly layers: PlannedLayer[] = [];
  private readonly couplings: Coupling[] = [];
  private readonly slotOfTensor = new Map<string, number>();
  private readonly strideOfTensor = new Map<string, number>([[NETWORK_INPUT, 1]]);

  constructor(
    private readonly inputChannels: number,
    private readonly slotNames: readonly string[],
  ) {}

  conv(name: string, input: string, slot: number, kernel: number, stride: number, activation: Activation): string {
    this.layers.push({ kind: 'conv', name, input, slot, kernel, stride, depthwise: false, activation });
    return this.produced(name, input, slot, stride);
  }

  depthwise(name: string, input: string, kernel: number, stride: number, activation: Activation): string {
    const slot = this.slotOf(input);
    this.layers.push({ kind: 'conv', name, input, slot, kernel, stride, depthwise: true, activation });
    return this.produced(name, input, slot, stride);
  }

  add(name: string, inputs: readonly [string, string], activation: Activation, reason: string): string {
    const slot = this.slotOf(inputs[0]);
    this.couple(slot, this.slotOf(inputs[1]), reason);
    this.layers.push({ kind: 'add', name, inputs, activation });
    return this.produced(name, inputs[0], slot, 1);
  }

  maxPool(name: string, input: string, kernel: number, stride: number): string {
    this.layers.push({ kind: 'maxPool', name, input, kernel, stride });
    return this.produced(name, input, this.slotOf(input), stride);
  }

  globalAvgPool(name: string, input: string): string {
    this.layers.push({ kind: 'globalAvgPool', name, input });
    return this.produced(name, input, this.slotOf(input), 1);
  }

  linear(name: string, input: string, slot: number): string {
    this.layers.push({ kind: 'linear', name, input, slot });
    return this.produced(name, input, slot, 1);
  }

  /** Records that a tensor's width slot must equal another slot (e.g. a block without expand conv). */
  couple(a: number, b: number, reason: string): void {
    if (a !== b) this.couplings.push({ slots: [a, b], reason });
  }

  slotOf(tensor: string): number {
    const slot = this.slotOfTensor.get(tensor);
    if (slot === undefined) throw new Error(`plan: tensor ${tensor} has no channel slot`);
    return slot;
  }

  finish(classesSlot: number): NetworkPlan {
    return {
      inputChannels: this.inputChannels,
      layers: this.layers,
      couplings: this.couplings,
      slotNames: this.slotNames,
      classesSlot,
      totalStride: Math.max(...this.strideOfTensor.values()),
    };
  }

  private produced(name: string, input: string, slot: number, stride: number): string {
    this.slotOfTensor.set(name, slot);
    this.strideOfTensor.set(name, (this.strideOfTensor.get(input) ?? 1) * stride);
    return name;
  }
}
