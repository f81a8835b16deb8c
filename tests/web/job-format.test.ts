import { duration, ordinal } from '../../web/src/jobFormat';

describe('job wording', () => {
  it('says how long a job took in the unit that reads best', () => {
    expect([840, 12_345, 754_000, 7_500_000].map(duration)).toEqual(['840 ms', '12.3 s', '12 min 34 s', '2 h 5 min']);
  });

  it('gives places in the queue their English suffixes, teens included', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '101st', '111th']);
  });
});
