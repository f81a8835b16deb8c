/** What the ranking view plots and counts of a ranking study's configurations. */
import type { BnMode, Interval, RankingStudyConfig, StudyConfigOrigin } from './api/types';

export const BN_MODE_LABEL: Record<BnMode, string> = {
  BATCH_STATS: 'BN from the batch',
  RECALIBRATED: 'BN recalibrated',
};

export const ORIGIN_LABEL: Record<StudyConfigOrigin, string> = {
  SAMPLED: 'sampled',
  UNIFORM: 'uniform width',
  AUTOSLIM: 'AutoSlim',
};

/** One configuration on a ranking chart: its supernet score under one BN mode against its retrained top-1. */
export interface RankingPoint {
  readonly id: string;
  readonly configHash: string;
  readonly origin: StudyConfigOrigin;
  readonly macs: number;
  readonly score: number;
  readonly top1: Interval;
}

/** The configurations that have both a score under `bnMode` and a retrained top-1. */
export function rankingPoints(configs: readonly RankingStudyConfig[], bnMode: BnMode): RankingPoint[] {
  return configs.flatMap((config) => {
    const score = config.scores.find((s) => s.bnMode === bnMode);
    if (!score || !config.retrainedTop1) return [];
    const { candidate, origin, macs } = config;
    return [{ id: candidate.id, configHash: candidate.configHash, origin, macs, score: score.accuracy, top1: config.retrainedTop1 }];
  });
}

/** The BN modes the study scored in, in a fixed order, so the charts do not swap places between reloads. */
export function scoredModes(configs: readonly RankingStudyConfig[]): BnMode[] {
  const modes = new Set(configs.flatMap((c) => c.scores.map((s) => s.bnMode)));
  return (Object.keys(BN_MODE_LABEL) as BnMode[]).filter((mode) => modes.has(mode));
}

export interface StudyProgress {
  readonly configs: number;
  /** Configurations scored by the supernet (the evaluation job's part). */
  readonly scored: number;
  /** Configurations with at least one retrained seed. */
  readonly retrained: number;
  /** Configurations retrained with every seed of the study. */
  readonly allSeeds: number;
}

/** What progress needs of a configuration: whether it has scores, and how many seeds it was retrained with. */
export interface ProgressOf {
  readonly scores: readonly unknown[];
  readonly retrainedTop1: Pick<Interval, 'n'> | null;
}

export function studyProgress(configs: readonly ProgressOf[], seeds: readonly number[]): StudyProgress {
  return {
    configs: configs.length,
    scored: configs.filter((c) => c.scores.length > 0).length,
    retrained: configs.filter((c) => c.retrainedTop1 !== null).length,
    allSeeds: configs.filter((c) => (c.retrainedTop1?.n ?? 0) >= seeds.length).length,
  };
}

/** "7 of 12 configs retrained (5 with all 3 seeds) · 12 of 12 scored by the supernet". */
export function progressText(progress: StudyProgress, seeds: number): string {
  const { configs, scored, retrained, allSeeds } = progress;
  const complete = seeds > 1 ? ` (${allSeeds} with all ${seeds} seeds)` : '';
  return `${retrained} of ${configs} configs retrained${complete} · ${scored} of ${configs} scored by the supernet`;
}
