import type { Io } from '../../cli/io';
import { duration, ProgressLine, type JobStatus } from '../../cli/jobs';

function logged(): { io: Io; lines: () => string[] } {
  const err: string[] = [];
  return {
    io: { out: () => undefined, err: (t) => void err.push(t), readSecret: async () => '', interactive: false, env: {} },
    lines: () => err.join('').trimEnd().split('\n'),
  };
}

const job = (progress: number, state: JobStatus['state'] = 'RUNNING'): JobStatus => ({
  id: 'j1',
  kind: 'TRAIN_SUPERNET',
  state,
  progress,
  progressMessage: null,
  waitingReason: null,
  error: null,
});

test('shows the elapsed time, and the time left only once progress has a rate', () => {
  let clock = 1_000;
  const { io, lines } = logged();
  const bar = new ProgressLine(io, 'train supernet', () => clock);
  bar.draw([job(0)], 1);
  clock += 30_000;
  bar.draw([job(0.1)], 1);
  clock += 30_000;
  bar.draw([job(0.2)], 1);
  clock += 5_000;
  bar.draw([job(1, 'SUCCEEDED')], 1);
  expect(lines()).toEqual([
    'train supernet [------------------------] 0% (0s elapsed)',
    'train supernet [##----------------------] 10% (30s elapsed, ~4m30s left)',
    'train supernet [#####-------------------] 20% (1m00s elapsed, ~4m00s left)',
    'train supernet [########################] 100% (1m05s elapsed)',
  ]);
});

test('a job found part done takes its rate from what moved while watched', () => {
  let clock = 0;
  const { io, lines } = logged();
  const bar = new ProgressLine(io, 'slim', () => clock);
  bar.draw([job(0.5)], 1);
  clock += 10_000;
  bar.draw([job(0.6)], 1);
  expect(lines()).toEqual(['slim [############------------] 50% (0s elapsed)', 'slim [##############----------] 60% (10s elapsed, ~40s left)']);
});

test.each([
  [0, '0s'],
  [42_400, '42s'],
  [185_000, '3m05s'],
  [3_720_000, '1h02m'],
])('duration(%i) reads %s', (ms, text) => {
  expect(duration(ms)).toBe(text);
});
