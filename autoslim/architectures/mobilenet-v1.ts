import { makeDivisible } from '../divisible';
import { NETWORK_INPUT, PlanBuilder } from '../plan';
import { ArchitectureSpec } from './spec';

// Output width and depthwise stride of the 13 depthwise-separable blocks.
const BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];
const STEM = 32;

/** Layout `[stem, pw1 … pw13, classes]`. */
export const mobilenetV1: ArchitectureSpec = {
  description: 'MobileNet v1 (ImageNet layout, 13 depthwise-separable blocks)',
  defaultInputSize: 224,
  inputChannels: 3,
  defaultNumClasses: 1000,
  listLength: BLOCKS.length + 2,
  defaultStartWidth: 1.5,
  defaultChannels(width, numClasses) {
    return [makeDivisible(STEM * width, 8), ...BLOCKS.map(([c]) => makeDivisible(c * width, 8)), numClasses];
  },
  plan() {
    const slotNames = ['stem', ...BLOCKS.map((_, i) => `blocks.${i}.out`), 'classes'];
    const b = new PlanBuilder(3, slotNames);
    let x = b.conv('stem', NETWORK_INPUT, 0, 3, 2, 'relu6');
    BLOCKS.forEach(([, stride], i) => {
      const dw = b.depthwise(`blocks.${i}.dw`, x, 3, stride, 'relu6');
      x = b.conv(`blocks.${i}.pw`, dw, i + 1, 1, 1, 'relu6');
    });
    const pooled = b.globalAvgPool('pool', x);
    b.linear('classifier', pooled, BLOCKS.length + 1);
    return b.finish(BLOCKS.length + 1);
  },
};
