import { makeDivisible } from '../divisible';
import { NETWORK_INPUT, PlanBuilder } from '../plan';
import { ArchitectureSpec } from './spec';

/** One inverted-residual block: expansion ratio, output width at 1.0x, stride, depthwise kernel. */
export interface InvertedResidualBlock {
  readonly expansion: number;
  readonly width: number;
  readonly stride: number;
  readonly kernel: number;
}

export interface InvertedResidualNet {
  readonly description: string;
  readonly defaultInputSize: number;
  readonly inputChannels: number;
  readonly defaultNumClasses: number;
  readonly stemWidth: number;
  readonly stemStride: number;
  /** Block 0 must have expansion 1: it has no expand conv and no `mid` entry in the list. */
  readonly blocks: readonly InvertedResidualBlock[];
  /** Kept at its 1.0x width below 1.0x and widened above, as MobileNet v2 does with 1280. */
  readonly tailWidth: number;
}

/** Expands `(t, c, n, s, k)` rows of a paper table into one entry per block. */
export function repeatBlocks(
  rows: readonly (readonly [t: number, c: number, n: number, s: number, k: number])[],
): InvertedResidualBlock[] {
  return rows.flatMap(([expansion, width, n, stride, kernel]) =>
    Array.from({ length: n }, (_, i) => ({ expansion, width, stride: i === 0 ? stride : 1, kernel })),
  );
}

const midSlot = (block: number) => 2 * block;
const outSlot = (block: number) => (block === 0 ? 1 : 2 * block + 1);

/**
 * MobileNet v2, MNasNet and the Fashion-MNIST benchmark net share one layout:
 * `[stem, out0, (mid_i, out_i) for i ≥ 1, tail, classes]`. The structure list decides each block
 * as the reference does: an expand conv when mid ≠ input width, a residual add when the stride is
 * 1 and input width = output width.
 */
export function invertedResidualArchitecture(net: InvertedResidualNet): ArchitectureSpec {
  const blockCount = net.blocks.length;
  const tailSlot = 2 * blockCount;
  const classesSlot = tailSlot + 1;
  const slotNames = ['stem', 'blocks.0.out'];
  for (let i = 1; i < blockCount; i++) slotNames.push(`blocks.${i}.mid`, `blocks.${i}.out`);
  slotNames.push('tail', 'classes');

  return {
    description: net.description,
    defaultInputSize: net.defaultInputSize,
    inputChannels: net.inputChannels,
    defaultNumClasses: net.defaultNumClasses,
    listLength: classesSlot + 1,
    defaultStartWidth: 1.5,
    defaultChannels(width, numClasses) {
      const list = [makeDivisible(net.stemWidth * width, 8)];
      net.blocks.forEach((block, i) => {
        const out = makeDivisible(block.width * width, 8);
        // The expanded width is the input width times t, unrounded, as in the reference.
        if (i > 0) list.push(list[list.length - 1] * block.expansion);
        list.push(out);
      });
      list.push(makeDivisible(net.tailWidth * Math.max(1, width), 8), numClasses);
      return list;
    },
    plan(structure) {
      const b = new PlanBuilder(net.inputChannels, slotNames);
      let x = b.conv('stem', NETWORK_INPUT, 0, 3, net.stemStride, 'relu6');
      net.blocks.forEach((block, i) => {
        const inSlot = b.slotOf(x);
        let mid = x;
        if (i > 0) {
          if (structure[midSlot(i)] !== structure[inSlot]) {
            mid = b.conv(`blocks.${i}.expand`, x, midSlot(i), 1, 1, 'relu6');
          } else {
            b.couple(midSlot(i), inSlot, `block ${i} has no expand conv, so its depthwise width is its input width`);
          }
        }
        const dw = b.depthwise(`blocks.${i}.dw`, mid, block.kernel, block.stride, 'relu6');
        const out = b.conv(`blocks.${i}.project`, dw, outSlot(i), 1, 1, 'none');
        const residual = block.stride === 1 && structure[inSlot] === structure[outSlot(i)];
        x = residual ? b.add(`blocks.${i}.add`, [out, x], 'none', `residual add of block ${i}`) : out;
      });
      const tail = b.conv('tail', x, tailSlot, 1, 1, 'relu6');
      b.linear('classifier', b.globalAvgPool('pool', tail), classesSlot);
      return b.finish(classesSlot);
    },
  };
}

export const mobilenetV2 = invertedResidualArchitecture({
  description: 'MobileNet v2 (ImageNet layout, 17 inverted-residual blocks, 1280 tail)',
  defaultInputSize: 224,
  inputChannels: 3,
  defaultNumClasses: 1000,
  stemWidth: 32,
  stemStride: 2,
  blocks: repeatBlocks([
    [1, 16, 1, 1, 3], [6, 24, 2, 2, 3], [6, 32, 3, 2, 3], [6, 64, 4, 2, 3],
    [6, 96, 3, 1, 3], [6, 160, 3, 2, 3], [6, 320, 1, 1, 3],
  ]),
  tailWidth: 1280,
});

export const mnasnet = invertedResidualArchitecture({
  description: 'MNasNet-B1 as in the AutoSlim reference (3×3 and 5×5 depthwise, no squeeze-excite)',
  defaultInputSize: 224,
  inputChannels: 3,
  defaultNumClasses: 1000,
  stemWidth: 32,
  stemStride: 2,
  blocks: repeatBlocks([
    [1, 16, 1, 1, 3], [3, 24, 3, 2, 3], [3, 40, 3, 2, 5], [6, 80, 3, 2, 5],
    [6, 96, 2, 1, 3], [6, 192, 4, 2, 5], [6, 320, 1, 1, 3],
  ]),
  tailWidth: 1280,
});

export const mbv2Fmnist = invertedResidualArchitecture({
  description: 'MobileNet-v2-style benchmark net for 28×28×1 (Fashion-MNIST), AUTOSLIM.md §4',
  defaultInputSize: 28,
  inputChannels: 1,
  defaultNumClasses: 10,
  stemWidth: 16,
  stemStride: 1,
  blocks: repeatBlocks([[1, 16, 1, 1, 3], [6, 24, 2, 2, 3], [6, 32, 3, 2, 3], [6, 64, 2, 2, 3], [6, 96, 1, 1, 3]]),
  tailWidth: 320,
});
