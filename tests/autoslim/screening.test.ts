import { GreedyState, Score, advance, buildUnitTable, defaultChannels, proposals, profileCost, screenContenders, startSlimming } from '../../autoslim';
import { expectAutoSlimError } from './expect-error';

const FMNIST = { inputSize: 28, numClasses: 10 };
const table = buildUnitTable('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, FMNIST), FMNIST);
const macs = profileCost(table, 'macs');

/** The state after step 0, with one proposal per unit that can still be slimmed. */
function firstSlimmingStep(): GreedyState {
  const start = startSlimming(table, { targets: [1e6] }, macs);
  return advance(start, [{ accuracy: 0.9 }], macs).state;
}

describe('screening proposals on a cheaper batch', () => {
  test('keeps the best screening accuracies, ties to the lower loss and then the lower index, in index order', () => {
    const screen: Score[] = [{ accuracy: 0.5 }, { accuracy: 0.8, loss: 2 }, { accuracy: 0.7 }, { accuracy: 0.8, loss: 1 }, { accuracy: 0.8, loss: 1 }];
    expect(screenContenders(screen, 2)).toEqual([3, 4]);
    expect(screenContenders(screen, 3)).toEqual([1, 3, 4]);
    expect(screenContenders(screen, 10)).toEqual([0, 1, 2, 3, 4]);
    expectAutoSlimError(() => screenContenders(screen, 0), 'keep', 'positive-integer');
  });

  test('a screened-out proposal never wins, even with the highest recorded accuracy', () => {
    const state = firstSlimmingStep();
    const pending = proposals(state);
    expect(pending.length).toBeGreaterThan(3);
    // Proposal 0 screened best on the small batch but was (hypothetically) left out of the contenders.
    const scores: Score[] = pending.map((_, i) => (i === 0 ? { accuracy: 0.99, screenedOut: true } : { accuracy: 0.5 + i / 1000 }));
    const { record } = advance(state, scores, macs);
    expect(record.unit!.index).toBe(pending.at(-1)!.unit!.index);
    expect(record.proposals[0]).toMatchObject({ accuracy: 0.99, screenedOut: true });
    expect(record.proposals[1]!.screenedOut).toBeUndefined();
  });

  test('a step needs at least one fully evaluated proposal', () => {
    const state = firstSlimmingStep();
    const scores = proposals(state).map(() => ({ accuracy: 0.5, screenedOut: true }));
    expectAutoSlimError(() => advance(state, scores, macs), 'scores', 'contender');
  });
});
