import { ArchitectureName, specOf } from './architecture';
import { AutoSlimError } from './errors';
import { MAX_WIDTH, NetworkOptions, checkInputCoversStride, checkNetworkOptions } from './options';
import { NetworkPlan } from './plan';

declare const validated: unique symbol;

/**
 * A channel list in the reference layout of its architecture (AUTOSLIM.md §2) that passed
 * parseChannelList: right length, positive widths, class count last, coupled widths equal.
 * At run time it is a plain array, so it serializes as one.
 */
export type ChannelList = readonly number[] & { readonly [validated]: true };

export const MIN_WIDTH_MULTIPLIER = 0.15;
export const MAX_WIDTH_MULTIPLIER = 1.5;

/**
 * Validates a channel list. With `structure` (the supernet's widest list) the list is a sliced
 * configuration of that supernet: it keeps the supernet's expand convs and shortcuts, and no
 * width may exceed the supernet's. Without it the list decides its own structure.
 */
export function parseChannelList(
  arch: ArchitectureName,
  list: readonly number[],
  opts: NetworkOptions,
  structure?: ChannelList,
): ChannelList {
  return checkedList(arch, list, opts, structure).list;
}

/** The reference default list for a width multiplier in [0.15, 1.5]. */
export function defaultChannels(arch: ArchitectureName, width: number, opts: NetworkOptions): ChannelList {
  if (!(width >= MIN_WIDTH_MULTIPLIER && width <= MAX_WIDTH_MULTIPLIER)) {
    throw new AutoSlimError('width', 'range', `width multiplier ${width} is outside [${MIN_WIDTH_MULTIPLIER}, ${MAX_WIDTH_MULTIPLIER}]`);
  }
  return parseChannelList(arch, specOf(arch).defaultChannels(width, opts.numClasses), opts);
}

/** A validated list with the plan its structure decides; the graph builder consumes both. */
export function checkedList(
  arch: ArchitectureName,
  list: readonly number[],
  opts: NetworkOptions,
  structure?: ChannelList,
): { list: ChannelList; plan: NetworkPlan } {
  const spec = specOf(arch);
  checkNetworkOptions(opts);
  if (list.length !== spec.listLength) {
    throw new AutoSlimError('channels', 'length', `${arch} takes ${spec.listLength} entries, got ${list.length}`);
  }
  if (structure !== undefined && structure.length !== spec.listLength) {
    throw new AutoSlimError('structure', 'length', `${arch} takes ${spec.listLength} entries, the structure list has ${structure.length}`);
  }
  list.forEach((width, i) => {
    if (!Number.isInteger(width) || width < 1) {
      throw new AutoSlimError(`channels[${i}]`, 'positive-integer', `width ${width} must be an integer of at least 1`);
    }
    if (width > MAX_WIDTH) throw new AutoSlimError(`channels[${i}]`, 'maximum', `width ${width} is above ${MAX_WIDTH}`);
    if (structure !== undefined && width > structure[i]) {
      throw new AutoSlimError(`channels[${i}]`, 'maximum', `width ${width} is above the supernet's ${structure[i]}`);
    }
  });
  const plan = spec.plan(structure ?? list);
  checkInputCoversStride(opts.inputSize, plan.totalStride);
  const classes = list[plan.classesSlot];
  if (classes !== opts.numClasses) {
    const detail = `the last entry is the class count ${opts.numClasses}, got ${classes}`;
    throw new AutoSlimError(`channels[${plan.classesSlot}]`, 'class-count', detail);
  }
  for (const { slots, reason } of plan.couplings) {
    // Name the later entry: it is the one that disagrees with a width already given.
    const [a, b] = [Math.min(...slots), Math.max(...slots)];
    if (list[a] !== list[b]) {
      throw new AutoSlimError(
        `channels[${b}]`,
        'coupling',
        `${plan.slotNames[b]} = ${list[b]} must equal channels[${a}] (${plan.slotNames[a]}) = ${list[a]}: ${reason}`,
      );
    }
  }
  return { list: list.slice() as readonly number[] as ChannelList, plan };
}
