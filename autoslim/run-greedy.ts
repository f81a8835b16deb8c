import { CostFn, FinishedState, GreedyState, Proposal, Score, StepRecord, advance, proposals } from './greedy';

/** Scores every proposal of one step, in order; called once per step with all of them. */
export type Evaluator = (proposals: readonly Proposal[]) => Promise<readonly Score[]>;

/** Called after each step with its record and the state to persist for resuming. */
export type StepListener = (record: StepRecord, state: GreedyState) => void | Promise<void>;

/** Drives a greedy walk (fresh or resumed) to its end. */
export async function runGreedy(
  state: GreedyState,
  evaluate: Evaluator,
  costOf: CostFn,
  onStep: StepListener = () => undefined,
  signal?: AbortSignal,
): Promise<FinishedState> {
  let current = state;
  while (current.phase !== 'done') {
    signal?.throwIfAborted();
    const scores = await evaluate(proposals(current));
    const { state: next, record } = advance(current, scores, costOf);
    await onStep(record, next);
    current = next;
  }
  return current;
}
