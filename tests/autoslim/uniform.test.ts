import { defaultChannels, parseChannelList, profile, UNIFORM_WIDTH_STEP, widestUniformWithin } from '../../autoslim';

const FMNIST = { inputSize: 28, numClasses: 10 };
const structure = parseChannelList('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1, FMNIST), FMNIST);
const costOf = (width: number, metric: 'macs' | 'params') =>
  profile('mbv2-fmnist', parseChannelList('mbv2-fmnist', defaultChannels('mbv2-fmnist', width, FMNIST), FMNIST, structure), FMNIST, 'reference', structure)[metric];

describe('the widest uniform width within a budget', () => {
  test.each([
    ['macs', [2.5e6, 3e6, 4e6, 6e6, 8e6]],
    ['params', [3e4, 5e4, 1e5, 2e5]],
  ] as const)('%s: fits the budget, and the next grid width does not', (metric, budgets) => {
    const found = widestUniformWithin('mbv2-fmnist', FMNIST, structure, metric, 1, budgets);
    found.forEach((match, i) => {
      expect(match).not.toBeNull();
      const { width, cost, channels } = match!;
      expect(cost).toBe(costOf(width, metric));
      expect(channels).toEqual(defaultChannels('mbv2-fmnist', width, FMNIST));
      expect(cost).toBeLessThanOrEqual(budgets[i]!);
      expect(Math.round(width * 1000) / 1000).toBe(width);
      expect(costOf(Math.round((width + UNIFORM_WIDTH_STEP) * 1000) / 1000, metric)).toBeGreaterThan(budgets[i]!);
    });
  });

  test('a budget above the widest config takes the search space\'s widest width', () => {
    const [match] = widestUniformWithin('mbv2-fmnist', FMNIST, structure, 'macs', 1, [1e12]);
    expect(match).toMatchObject({ width: 1, cost: 9105872 });
  });

  test('a budget below the narrowest width has no match', () => {
    const narrowest = costOf(0.15, 'macs');
    expect(widestUniformWithin('mbv2-fmnist', FMNIST, structure, 'macs', 1, [narrowest - 1, narrowest])).toEqual([
      null,
      expect.objectContaining({ cost: narrowest }),
    ]);
  });

  test('a maxWidth off the grid is itself a candidate width', () => {
    const narrow = parseChannelList('mbv2-fmnist', defaultChannels('mbv2-fmnist', 0.3505, FMNIST), FMNIST);
    const [match] = widestUniformWithin('mbv2-fmnist', FMNIST, narrow, 'macs', 0.3505, [1e12]);
    expect(match!.width).toBe(0.3505);
  });
});
