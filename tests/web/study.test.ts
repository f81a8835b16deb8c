import type { RankingStudyConfig } from '../../web/src/api/types';
import { progressText, rankingPoints, scoredModes, studyProgress } from '../../web/src/study';

const top1 = (estimate: number, n: number) => ({ estimate, low: n > 1 ? estimate - 0.01 : null, high: n > 1 ? estimate + 0.01 : null, n, confidence: 0.95 });

function config(id: string, scores: RankingStudyConfig['scores'], retrainedTop1: RankingStudyConfig['retrainedTop1']): RankingStudyConfig {
  return { candidate: { id, configHash: `hash-${id}` }, origin: 'SAMPLED', macs: 1e6, params: 1e4, scores, retrainedTop1 };
}

const configs = [
  config('a', [{ bnMode: 'RECALIBRATED', accuracy: 0.6, loss: 1 }, { bnMode: 'BATCH_STATS', accuracy: 0.5, loss: 1.2 }], top1(0.8, 3)),
  config('b', [{ bnMode: 'RECALIBRATED', accuracy: 0.55, loss: 1.1 }], top1(0.78, 1)),
  config('c', [{ bnMode: 'RECALIBRATED', accuracy: 0.5, loss: 1.3 }], null),
  config('d', [], null),
];

describe('a ranking study as the view shows it', () => {
  it('plots a config under a BN mode once it has both a score in that mode and a retrained top-1', () => {
    expect(rankingPoints(configs, 'RECALIBRATED').map((p) => [p.id, p.score, p.top1.estimate])).toEqual([
      ['a', 0.6, 0.8],
      ['b', 0.55, 0.78],
    ]);
    expect(rankingPoints(configs, 'BATCH_STATS').map((p) => p.id)).toEqual(['a']);
  });

  it('lists the scored BN modes in a fixed order', () => {
    expect(scoredModes(configs)).toEqual(['BATCH_STATS', 'RECALIBRATED']);
    expect(scoredModes([configs[3]!])).toEqual([]);
  });

  it('counts scored, retrained and fully retrained configs', () => {
    const progress = studyProgress(configs, [0, 1, 2]);
    expect(progress).toEqual({ configs: 4, scored: 3, retrained: 2, allSeeds: 1 });
    expect(progressText(progress, 3)).toBe('2 of 4 configs retrained (1 with all 3 seeds) · 3 of 4 scored by the supernet');
    expect(progressText(studyProgress(configs, [0]), 1)).toBe('2 of 4 configs retrained · 3 of 4 scored by the supernet');
  });
});
