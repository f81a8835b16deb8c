import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The training images BN statistics were recalibrated on. */
export interface CalibrationIdentity {
  readonly images: number;
  readonly seed: number;
  /** sha256 of the images themselves. */
  readonly digest: string;
}

/** What identifies an evaluation: the same key always gives the same result. */
export type EvaluationKey = {
  readonly checkpointSha256: string;
  readonly channels: readonly number[];
  /** sha256 of the batch's images and labels (of the batch whose leading `batch` images were scored). */
  readonly dataDigest: string;
  readonly batch: number;
  /** The seed that drew the hold-out batch; null for a batch of the test split. */
  readonly batchSeed: number | null;
} & ({ readonly bnMode: 'BATCH_STATS' } | { readonly bnMode: 'RECALIBRATED'; readonly calibration: CalibrationIdentity });

export interface CachedEvaluation {
  readonly top1: number;
  readonly top5: number;
  readonly loss: number;
  readonly count: number;
}

/**
 * A content-addressed cache of evaluations, kept in memory and appended to a JSON-lines file, so
 * no configuration is evaluated twice on one machine: not within a trajectory, not across
 * trajectories of one supernet, not after a restart.
 */
export class EvaluationCache {
  private readonly entries = new Map<string, CachedEvaluation>();
  /** Lines of the file that were not an entry (a crash mid-append tears the last one); they are skipped. */
  readonly skippedLines: number = 0;

  constructor(
    private readonly file: string | null,
    warn: (message: string) => void = () => undefined,
  ) {
    if (!file || !existsSync(file)) return;
    const content = readFileSync(file, 'utf8');
    for (const line of content.split('\n')) {
      if (!line) continue;
      const entry = parseEntry(line);
      if (entry) this.entries.set(entry.key, entry.value);
      else this.skippedLines++;
    }
    // The next append would otherwise continue the torn line and be lost with it.
    if (content && !content.endsWith('\n')) appendFileSync(file, '\n');
    if (this.skippedLines > 0) {
      warn(`evaluation cache ${file}: skipped ${this.skippedLines} torn or corrupt line(s), loaded ${this.entries.size} evaluation(s)`);
    }
  }

  static keyOf(key: EvaluationKey): string {
    const calibration = key.bnMode === 'RECALIBRATED' ? [key.calibration.images, key.calibration.seed, key.calibration.digest].join(':') : '';
    const canonical = [key.checkpointSha256, key.channels.join(','), key.dataDigest, key.bnMode, key.batch, key.batchSeed ?? 'test', calibration].join('|');
    return createHash('sha256').update(canonical).digest('hex');
  }

  get(key: EvaluationKey): CachedEvaluation | undefined {
    return this.entries.get(EvaluationCache.keyOf(key));
  }

  set(key: EvaluationKey, value: CachedEvaluation): void {
    const hashed = EvaluationCache.keyOf(key);
    this.entries.set(hashed, value);
    if (this.file) {
      mkdirSync(dirname(this.file), { recursive: true });
      appendFileSync(this.file, `${JSON.stringify({ key: hashed, value })}\n`);
    }
  }
}

function parseEntry(line: string): { key: string; value: CachedEvaluation } | null {
  let entry: { key?: unknown; value?: Partial<Record<keyof CachedEvaluation, unknown>> | null };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return null;
  }
  const value = entry?.value;
  if (typeof entry?.key !== 'string' || typeof value !== 'object' || value === null) return null;
  const { top1, top5, loss, count } = value;
  if (![top1, top5, loss, count].every((n) => typeof n === 'number')) return null;
  return { key: entry.key, value: { top1, top5, loss, count } as CachedEvaluation };
}
