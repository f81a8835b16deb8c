import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What identifies an evaluation: the same key always gives the same result. */
export interface EvaluationKey {
  readonly checkpointSha256: string;
  readonly channels: readonly number[];
  readonly dataDigest: string;
  readonly bnMode: string;
  readonly batch: number;
}

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

  constructor(private readonly file: string | null) {
    if (file && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        const { key, value } = JSON.parse(line) as { key: string; value: CachedEvaluation };
        this.entries.set(key, value);
      }
    }
  }

  static keyOf(key: EvaluationKey): string {
    const canonical = [key.checkpointSha256, key.channels.join(','), key.dataDigest, key.bnMode, key.batch].join('|');
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
