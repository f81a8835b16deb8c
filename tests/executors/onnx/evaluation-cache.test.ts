import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvaluationCache, type EvaluationKey } from '../../../executors/onnx/evaluation-cache';

const key = (batch: number): EvaluationKey => ({ checkpointSha256: 'c'.repeat(64), channels: [8, 16], dataDigest: 'd', bnMode: 'BATCH_STATS', batch, batchSeed: 0 });
const result = (top1: number) => ({ top1, top5: 1, loss: 0.5, count: 64 });

describe('the evaluation cache file', () => {
  let file: string;

  beforeEach(() => {
    file = join(mkdtempSync(join(tmpdir(), 'slimlab-cache-')), 'evaluations.jsonl');
    const cache = new EvaluationCache(file);
    cache.set(key(1), result(0.1));
    cache.set(key(2), result(0.2));
  });

  it('loads what survived a crash mid-append, skips the torn line with a warning, and appends after it', () => {
    const line = readFileSync(file, 'utf8').split('\n')[0]!;
    appendFileSync(file, line.slice(0, line.length / 2));
    const warnings: string[] = [];
    const reopened = new EvaluationCache(file, (message) => warnings.push(message));
    expect(reopened.get(key(1))).toEqual(result(0.1));
    expect(reopened.get(key(2))).toEqual(result(0.2));
    expect(reopened.skippedLines).toBe(1);
    expect(warnings).toEqual([`evaluation cache ${file}: skipped 1 torn or corrupt line(s), loaded 2 evaluation(s)`]);

    reopened.set(key(3), result(0.3));
    const again = new EvaluationCache(file);
    expect(again.get(key(3))).toEqual(result(0.3));
    expect(again.skippedLines).toBe(1);
  });

  it('skips lines that are JSON but not an entry', () => {
    appendFileSync(file, ['null', '{"key": 1, "value": {}}', '{"key": "k", "value": {"top1": "x", "top5": 1, "loss": 1, "count": 1}}', '\u0000\u0000'].join('\n') + '\n');
    const reopened = new EvaluationCache(file);
    expect(reopened.skippedLines).toBe(4);
    expect(reopened.get(key(2))).toEqual(result(0.2));
  });

  it('warns about nothing when the file is whole', () => {
    const warn = jest.fn();
    expect(new EvaluationCache(file, warn).skippedLines).toBe(0);
    expect(warn).not.toHaveBeenCalled();
    writeFileSync(file, '');
    expect(new EvaluationCache(file, warn).skippedLines).toBe(0);
  });
});

describe('evaluation cache keys', () => {
  const batchStats: EvaluationKey = { checkpointSha256: 'c'.repeat(64), channels: [8, 16], dataDigest: 'd', bnMode: 'BATCH_STATS', batch: 64, batchSeed: 0 };
  const calibration = { images: 1024, seed: 0, digest: 'e' };
  const recalibrated: EvaluationKey = { ...batchStats, bnMode: 'RECALIBRATED', calibration };

  it('tell apart the BN mode, the calibration images and their seed, and the seed of the batch', () => {
    const keys = [
      batchStats,
      recalibrated,
      { ...recalibrated, calibration: { ...calibration, images: 512 } },
      { ...recalibrated, calibration: { ...calibration, seed: 1 } },
      { ...recalibrated, calibration: { ...calibration, digest: 'f' } },
      { ...batchStats, batchSeed: 1 },
      { ...batchStats, batchSeed: null },
    ].map(EvaluationCache.keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(EvaluationCache.keyOf({ ...recalibrated, calibration: { ...calibration } })).toBe(keys[1]);
  });
});
