import fc from 'fast-check';
import {
  GreedyOptions,
  GreedyState,
  Proposal,
  Score,
  StepRecord,
  advance,
  buildUnitTable,
  channelsFromUnitWidths,
  defaultChannels,
  parseChannelList,
  profile,
  profileCost,
  proposals,
  randomConfig,
  runGreedy,
  startSlimming,
  unitWidthsOf,
} from '../../autoslim';
import { expectAutoSlimError } from './expect-error';

const FMNIST = { inputSize: 28, numClasses: 10 };
const table = buildUnitTable('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.5, FMNIST), FMNIST);
const macs = profileCost(table, 'macs');
const TARGETS = [12e6, 6e6, 3e6];

/** A deterministic stand-in for supernet accuracy: each unit contributes by how much of it is kept. */
function accuracyModel(weights: readonly number[]) {
  return (p: Proposal): Score => ({
    accuracy: 0.9 + p.widths.reduce((s, w, i) => s + weights[i % weights.length] * Math.log(w / table.units[i].max), 0),
  });
}

function walk(state: GreedyState, score: (p: Proposal) => Score, maxSteps = Infinity) {
  const records: StepRecord[] = [];
  while (state.phase !== 'done' && records.length < maxSteps) {
    const next = advance(state, proposals(state).map(score), macs);
    records.push(next.record);
    state = next.state;
  }
  return { state, records };
}

const WEIGHTS = [0.01, 0.03, 0.002, 0.02, 0.05, 0.004, 0.015];
const start = (options: Partial<GreedyOptions> = {}) => startSlimming(table, { targets: TARGETS, ...options }, macs);

describe('a walk on mbv2-fmnist under MACs targets', () => {
  const { state, records } = walk(start(), accuracyModel(WEIGHTS));

  test('step 0 is the widest configuration, the baseline', () => {
    expect(records[0]).toMatchObject({ step: 0, unit: null, score: null, accuracyDrop: 0, proposals: [] });
    expect(records[0].channels).toEqual(table.structure);
    expect(records[0].cost).toBe(profile('mbv2-fmnist', table.structure, FMNIST).macs);
  });

  test('every step removes one group of one unit, keeps a valid configuration and lowers MACs', () => {
    for (let i = 1; i < records.length; i++) {
      const [before, after] = [records[i - 1], records[i]];
      expect(() => parseChannelList('mbv2-fmnist', after.channels, FMNIST, table.structure)).not.toThrow();
      const changed = after.widths.flatMap((w, u) => (w === before.widths[u] ? [] : [u]));
      expect(changed).toEqual([after.unit!.index]);
      const choices = table.units[after.unit!.index].choices;
      expect(choices.indexOf(after.widths[changed[0]])).toBe(choices.indexOf(before.widths[changed[0]]) - 1);
      expect(after.cost).toBeLessThan(before.cost);
      expect(after.step).toBe(i);
    }
  });

  test('each step keeps the most accurate proposal, ties to the lowest unit index', () => {
    for (const record of records.slice(1)) {
      const best = Math.max(...record.proposals.map((p) => p.score));
      expect(record.score).toBe(best);
      expect(record.unit).toEqual(record.proposals.find((p) => p.score === best)!.unit);
      expect(record.accuracyDrop).toBeCloseTo(records[0].accuracy - record.accuracy, 12);
    }
  });

  test('one result per target, at the first configuration within it, largest target first', () => {
    expect(state).toMatchObject({ phase: 'done', reason: 'all-targets-met', remainingTargets: [] });
    expect(state.results.map((r) => r.target)).toEqual(TARGETS);
    for (const result of state.results) {
      expect(result.cost).toBeLessThanOrEqual(result.target);
      expect(records[result.step - 1].cost).toBeGreaterThan(result.target);
      expect(records[result.step].targetsCrossed).toContain(result.target);
      expect(result.channels).toEqual(records[result.step].channels);
    }
    expect(records.at(-1)!.cost).toBeLessThanOrEqual(3e6);
  });
});

test('removing a group never increases MACs', () => {
  fc.assert(
    fc.property(fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), fc.nat(), (stream, pick) => {
      const config = randomConfig(table, () => stream.next().value);
      const widths = unitWidthsOf(table, config);
      const unit = table.units[pick % table.units.length];
      const position = unit.choices.indexOf(widths[unit.index]);
      fc.pre(position > 0);
      const slimmer = widths.map((w, i) => (i === unit.index ? unit.choices[position - 1] : w));
      expect(macs(channelsFromUnitWidths(table, slimmer))).toBeLessThan(macs(config));
    }),
    { numRuns: 200 },
  );
});

test('same inputs give the same trajectory, and every visited configuration is valid', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 0.1, noNaN: true }), { minLength: 1, maxLength: 14 }), (weights) => {
      const first = walk(start(), accuracyModel(weights));
      const second = walk(start(), accuracyModel(weights));
      expect(second).toEqual(first);
      for (const record of first.records) {
        expect(() => parseChannelList('mbv2-fmnist', record.channels, FMNIST, table.structure)).not.toThrow();
        for (const p of record.proposals) expect(table.units[p.unit.index].name).toBe(p.unit.name);
      }
    }),
    { numRuns: 8 },
  );
});

test('a trajectory resumed from JSON mid-way equals an uninterrupted one', () => {
  const score = accuracyModel(WEIGHTS);
  const uninterrupted = walk(start({ scoring: 'accuracyDropPerCost' }), score);
  const firstHalf = walk(start({ scoring: 'accuracyDropPerCost' }), score, 17);
  const restored = JSON.parse(JSON.stringify(firstHalf.state)) as GreedyState;
  const secondHalf = walk(restored, score);
  expect([...firstHalf.records, ...secondHalf.records]).toEqual(uninterrupted.records);
  expect(JSON.stringify(secondHalf.state)).toBe(JSON.stringify(uninterrupted.state));
});

test('the walk stops at the narrowest configuration when no target can be met', () => {
  const { state } = walk(startSlimming(table, { targets: [1] }, macs), accuracyModel(WEIGHTS));
  expect(state).toMatchObject({ phase: 'done', reason: 'nothing-to-remove', results: [], remainingTargets: [1] });
  expect(state.phase === 'done' && state.current.widths).toEqual(table.units.map((u) => u.min));
});

test('a configuration whose cost equals a target meets it', () => {
  const widestCost = macs(table.structure);
  const { records } = walk(startSlimming(table, { targets: [widestCost] }, macs), accuracyModel(WEIGHTS));
  expect(records).toHaveLength(1);
  expect(records[0].targetsCrossed).toEqual([widestCost]);
});

test('targets the widest configuration already meets are met at step 0', () => {
  const { records, state } = walk(startSlimming(table, { targets: [5e6, 1e9] }, macs), accuracyModel(WEIGHTS));
  expect(records[0].targetsCrossed).toEqual([1e9]);
  expect(state.results.map((r) => [r.target, r.step > 0])).toEqual([
    [1e9, false],
    [5e6, true],
  ]);
});

describe('tie-breaking', () => {
  const flat = (loss: (p: Proposal) => number | undefined) => (p: Proposal) => {
    const l = loss(p);
    return l === undefined ? { accuracy: 0.5 } : { accuracy: 0.5, loss: l };
  };
  const firstSlimmed = (tieBreak: 'unitIndex' | 'loss', score: (p: Proposal) => Score) =>
    walk(start({ tieBreak }), score, 2).records[1].unit!.index;

  test('equal accuracy goes to the lowest unit index', () => {
    expect(firstSlimmed('unitIndex', flat((p) => (p.unit?.index === 3 ? 0.1 : 0.5)))).toBe(0);
  });
  test("with tieBreak 'loss', to the lowest loss, then the lowest index", () => {
    expect(firstSlimmed('loss', flat((p) => (p.unit?.index === 3 ? 0.1 : 0.5)))).toBe(3);
    expect(firstSlimmed('loss', flat((p) => (p.unit === null || p.unit.index >= 5 ? 0.2 : undefined)))).toBe(5);
    expect(firstSlimmed('loss', flat(() => 0.3))).toBe(0);
  });
});

test("'accuracyDropPerCost' prefers the unit that saves most cost per accuracy lost", () => {
  const afterBaseline = advance(start({ scoring: 'accuracyDropPerCost' }), [{ accuracy: 0.9 }], macs).state;
  const pending = proposals(afterBaseline);
  const saved = pending.map((p) => afterBaseline.phase === 'slimming' && afterBaseline.current.cost - p.cost) as number[];
  const biggest = saved.indexOf(Math.max(...saved));
  // Every proposal loses accuracy in proportion to the cost it saves, except one that loses half as much.
  const scores = pending.map((_, i) => ({ accuracy: 0.9 - 1e-9 * saved[i] * (i === biggest ? 0.5 : 1) }));
  const dropPerCost = advance(afterBaseline, scores, macs).record;
  expect(dropPerCost.unit).toEqual(pending[biggest].unit);
  const byAccuracy = advance({ ...afterBaseline, scoring: 'accuracy' }, scores, macs).record;
  expect(byAccuracy.unit).toEqual(pending[saved.indexOf(Math.min(...saved))].unit);
});

describe('bad calls', () => {
  test('targets', () => {
    expectAutoSlimError(() => startSlimming(table, { targets: [] }, macs), 'targets', 'non-empty');
    expectAutoSlimError(() => startSlimming(table, { targets: [5e6, -1] }, macs), 'targets[1]', 'positive');
  });
  test('scores', () => {
    const state = start();
    expectAutoSlimError(() => advance(state, [], macs), 'scores', 'length');
    expectAutoSlimError(() => advance(state, [{ accuracy: NaN }], macs), 'scores[0].accuracy', 'finite');
  });
  test('cost', () => {
    expectAutoSlimError(() => startSlimming(table, { targets: [1] }, () => Infinity), 'cost', 'non-negative');
  });
  test('advancing a finished walk', () => {
    const { state } = walk(startSlimming(table, { targets: [1e9] }, macs), accuracyModel(WEIGHTS));
    expectAutoSlimError(() => advance(state, [], macs), 'state', 'not-done');
  });
});

describe('runGreedy', () => {
  const evaluator = (calls: number[]) => async (batch: readonly Proposal[]) => {
    calls.push(batch.length);
    return batch.map(accuracyModel(WEIGHTS));
  };

  test('drives the state machine, one evaluator call with all proposals per step', async () => {
    const calls: number[] = [];
    const seen: StepRecord[] = [];
    const final = await runGreedy(start(), evaluator(calls), macs, (record) => {
      seen.push(record);
    });
    const manual = walk(start(), accuracyModel(WEIGHTS));
    expect(seen).toEqual(manual.records);
    expect(final).toEqual(manual.state);
    expect(calls).toEqual(manual.records.map((r, i) => (i === 0 ? 1 : r.proposals.length)));
  });

  test('stops when aborted', async () => {
    const controller = new AbortController();
    const run = runGreedy(start(), evaluator([]), macs, (record) => {
      if (record.step === 3) controller.abort();
    }, controller.signal);
    await expect(run).rejects.toThrow();
  });
});

describe('a minimum width per unit', () => {
  const floorOf = (fraction: number, i: number) => table.units[i].choices.find((c) => c >= fraction * table.units[i].max)!;

  test('no step of any walk takes a unit below its floor, whatever the scores', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.1, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (fraction, weights) => {
          const { state, records } = walk(start({ minWidthFraction: fraction, targets: [1] }), accuracyModel(weights));
          for (const r of records) r.widths.forEach((w, i) => expect(w).toBeGreaterThanOrEqual(floorOf(fraction, i)));
          // The walk stops only when every unit sits on its floor (the target of 1 MAC is never met).
          expect(state.phase === 'done' && state.reason).toBe('nothing-to-remove');
          expect(state.phase === 'done' && state.current.widths).toEqual(table.units.map((_, i) => floorOf(fraction, i)));
        },
      ),
      { numRuns: 25, seed: 13 },
    );
  });

  test('a fraction of 0 walks exactly as no fraction', () => {
    const plain = walk(start(), accuracyModel(WEIGHTS)).records;
    const zero = walk(start({ minWidthFraction: 0 }), accuracyModel(WEIGHTS)).records;
    expect(zero.map((r) => r.widths)).toEqual(plain.map((r) => r.widths));
  });

  test('a state saved before floors existed resumes without them', () => {
    const { floors: _, ...legacy } = start() as GreedyState & { floors?: number[] };
    const resumed = walk(JSON.parse(JSON.stringify(legacy)) as GreedyState, accuracyModel(WEIGHTS)).records;
    expect(resumed.map((r) => r.widths)).toEqual(walk(start(), accuracyModel(WEIGHTS)).records.map((r) => r.widths));
  });

  test.each([-0.1, 1, Number.NaN])('rejects a fraction of %p, naming the field', (fraction) => {
    expectAutoSlimError(() => start({ minWidthFraction: fraction }), 'minWidthFraction', 'unit-interval');
  });
});
