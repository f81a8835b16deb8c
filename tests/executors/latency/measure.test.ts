/**
 * Timing against a speed reference: a machine that slows down part-way through a measurement
 * slows the reference alike, so the ratio stays what the subject costs, where its own median does
 * not; and a session run right after another (its weights evicted) is not mistaken for its speed.
 */
import { BURST_RUNS, measureRelative, type MeasurePolicy, type Timed } from '../../../executors/latency/measure';

const POLICY: MeasurePolicy = { warmupRuns: 2, timedRuns: 30, maxAttempts: 3, spreadLimit: 1.5 };

/** Sessions of a machine whose speed changes after `fastCalls` calls, counting every session's calls. */
function machine(fastCalls: number, slowdown: number) {
  let calls = 0;
  return (ms: number): Timed => ({
    time: async () => ms * (calls++ < fastCalls ? 1 : slowdown),
  });
}

/** Sessions that take `coldMs` when another session ran last (their weights evicted) and `warmMs` when they themselves did. */
function cache() {
  let last: Timed | null = null;
  return (warmMs: number, coldMs: number): Timed => {
    const session: Timed = {
      time: async () => {
        const ms = last === session ? warmMs : coldMs;
        last = session;
        return ms;
      },
    };
    return session;
  };
}

describe('measuring against a speed reference', () => {
  it('keeps the subject-to-reference ratio through a slowdown its own times show', async () => {
    const session = machine(POLICY.warmupRuns + 2 * (1 + BURST_RUNS), 1.4);
    const measured = await measureRelative(session(2), null, session(0.5), POLICY);
    expect(measured.ratio).toBeCloseTo(4, 12);
    // All but the first turn came after the slowdown: the raw times carry it.
    expect(measured.rawMs).toBeCloseTo(2.8, 12);
    expect(measured.referenceMs).toBeCloseTo(0.7, 12);
  });

  it('takes a block\'s time over its baseline, turn by turn, relative to the reference', async () => {
    const session = machine(0, 1.25);
    const measured = await measureRelative(session(0.9), session(0.3), session(0.2), POLICY);
    expect(measured.ratio).toBeCloseTo(3, 12);
    expect(measured.rawMs).toBeCloseTo(0.75, 12);
  });

  it('times warm runs, not runs right after another session, which evicted the weights', async () => {
    // Cold runs are 10% slower for the subject and 30% for the reference, whose small model gains
    // more from a warm cache: pairing a cold run of one with a warm run of the other gives 1.5 or 2.2.
    const session = cache();
    const measured = await measureRelative(session(2, 2.2), null, session(1, 1.3), POLICY);
    expect(measured.ratio).toBeCloseTo(2, 12);
    expect(measured.referenceMs).toBeCloseTo(1, 12);
  });

  it('measures again while the subject\'s times over the reference spread wider than the policy allows', async () => {
    let subjectCalls = 0;
    // Every other run of the subject is twice as slow, the reference steady: p90/p10 = 2 every attempt.
    const subject: Timed = { time: async () => (subjectCalls++ % 2 ? 2 : 1) };
    const reference: Timed = { time: async () => 1 };
    await measureRelative(subject, null, reference, POLICY);
    const turns = Math.ceil(POLICY.timedRuns / BURST_RUNS);
    expect(subjectCalls).toBe(POLICY.maxAttempts * (POLICY.warmupRuns + turns * (1 + BURST_RUNS)));
  });
});
