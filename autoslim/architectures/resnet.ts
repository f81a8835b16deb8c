import { makeDivisible } from '../divisible';
import { NETWORK_INPUT, PlanBuilder } from '../plan';
import { ArchitectureSpec } from './spec';

/** A conv of a residual block body; the last one produces the block output. */
interface BodyConv {
  readonly kernel: number;
  /** Whether the block's stride is applied here (ResNet-50 strides in the 3×3 conv). */
  readonly strided: boolean;
}

interface ResidualStage {
  readonly blocks: number;
  /** Output width at 1.0x. */
  readonly width: number;
  /** Width of every inner body conv at 1.0x. */
  readonly mid: number;
  readonly stride: number;
}

interface ResidualNet {
  readonly description: string;
  readonly defaultInputSize: number;
  readonly defaultNumClasses: number;
  readonly stem: { readonly width: number; readonly kernel: number; readonly stride: number; readonly maxPool: boolean };
  readonly body: readonly BodyConv[];
  readonly stages: readonly ResidualStage[];
}

/**
 * ResNets in the AutoSlim reference layout: `[stem, per stage: (stage width, (body widths…) per
 * block), classes]`. The stage width is the first block's output (all outputs of a stage meet at
 * residual adds); a block gets a projection shortcut unless stride 1 and input width = output width.
 */
function residualArchitecture(net: ResidualNet): ArchitectureSpec {
  const slotsPerBlock = net.body.length;
  const slotNames = ['stem'];
  const stageSlots: number[] = [];
  net.stages.forEach((stage, s) => {
    stageSlots.push(slotNames.length);
    slotNames.push(`stages.${s}.width`);
    for (let blk = 0; blk < stage.blocks; blk++) {
      net.body.forEach((_, c) => slotNames.push(c === slotsPerBlock - 1 ? `stages.${s}.${blk}.out` : `stages.${s}.${blk}.mid${c + 1}`));
    }
  });
  const classesSlot = slotNames.length;
  slotNames.push('classes');

  return {
    description: net.description,
    defaultInputSize: net.defaultInputSize,
    inputChannels: 3,
    defaultNumClasses: net.defaultNumClasses,
    listLength: slotNames.length,
    defaultStartWidth: 1.0,
    defaultChannels(width, numClasses) {
      const scaled = (c: number) => makeDivisible(c * width, 8);
      const list = [scaled(net.stem.width)];
      for (const stage of net.stages) {
        list.push(scaled(stage.width));
        for (let blk = 0; blk < stage.blocks; blk++) {
          net.body.forEach((_, c) => list.push(scaled(c === slotsPerBlock - 1 ? stage.width : stage.mid)));
        }
      }
      list.push(numClasses);
      return list;
    },
    plan(structure) {
      const b = new PlanBuilder(3, slotNames);
      let x = b.conv('stem', NETWORK_INPUT, 0, net.stem.kernel, net.stem.stride, 'relu');
      if (net.stem.maxPool) x = b.maxPool('stem.pool', x, 3, 2);
      net.stages.forEach((stage, s) => {
        for (let blk = 0; blk < stage.blocks; blk++) {
          const name = `stages.${s}.${blk}`;
          const firstSlot = stageSlots[s] + 1 + blk * slotsPerBlock;
          const outSlot = firstSlot + slotsPerBlock - 1;
          const stride = blk === 0 ? stage.stride : 1;
          if (blk === 0) b.couple(stageSlots[s], outSlot, `stage ${s} width is the output width of its blocks`);
          let y = x;
          net.body.forEach((conv, c) => {
            const last = c === slotsPerBlock - 1;
            y = b.conv(`${name}.conv${c + 1}`, y, firstSlot + c, conv.kernel, conv.strided ? stride : 1, last ? 'none' : 'relu');
          });
          const identity = stride === 1 && structure[b.slotOf(x)] === structure[outSlot];
          const shortcut = identity ? x : b.conv(`${name}.shortcut`, x, outSlot, 1, stride, 'none');
          x = b.add(`${name}.add`, [y, shortcut], 'relu', `residual add of stage ${s} block ${blk}`);
        }
      });
      b.linear('classifier', b.globalAvgPool('pool', x), classesSlot);
      return b.finish(classesSlot);
    },
  };
}

export const resnet50 = residualArchitecture({
  description: 'ResNet-50 (bottleneck blocks 3-4-6-3, stride in the 3×3 conv)',
  defaultInputSize: 224,
  defaultNumClasses: 1000,
  stem: { width: 64, kernel: 7, stride: 2, maxPool: true },
  body: [
    { kernel: 1, strided: false },
    { kernel: 3, strided: true },
    { kernel: 1, strided: false },
  ],
  stages: [
    { blocks: 3, width: 256, mid: 64, stride: 1 },
    { blocks: 4, width: 512, mid: 128, stride: 2 },
    { blocks: 6, width: 1024, mid: 256, stride: 2 },
    { blocks: 3, width: 2048, mid: 512, stride: 2 },
  ],
});

/**
 * ResNet-20 for 32×32×3 (He et al. 2016, CIFAR variant): 3×3 stem to 16, three stages of three
 * basic blocks (3×3, 3×3) at 16, 32, 64 channels, stride 2 entering stages 2 and 3. At 1.0x the
 * first stage keeps the stem width, so it has identity shortcuts and shares the stem's unit.
 */
export const resnetCifar = residualArchitecture({
  description: 'ResNet-20 for 32×32×3: 3×3 stem, 3 stages × 3 basic blocks at 16/32/64 channels',
  defaultInputSize: 32,
  defaultNumClasses: 10,
  stem: { width: 16, kernel: 3, stride: 1, maxPool: false },
  body: [
    { kernel: 3, strided: true },
    { kernel: 3, strided: false },
  ],
  stages: [
    { blocks: 3, width: 16, mid: 16, stride: 1 },
    { blocks: 3, width: 32, mid: 32, stride: 2 },
    { blocks: 3, width: 64, mid: 64, stride: 2 },
  ],
});
