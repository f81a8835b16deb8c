import type { Orm } from '../db/orm';
import { MetricPoint, TrainingRun } from '../entities';
import * as check from '../validation';
import { downsample } from './downsample';
import { findInProject } from './lookup';
import type { Caller } from '../auth/caller';
import { ProjectRole } from '../../schema/enums';

export const MAX_CHART_POINTS = 10_000;

export interface MetricSeriesView {
  readonly key: string;
  readonly totalPoints: number;
  readonly points: { step: number; value: number; wallTime: Date | null }[];
}

export class HistoryService {
  constructor(private readonly orm: Orm) {}

  /** Each requested metric, downsampled on the server so a chart never gets more than maxPoints. */
  async history(caller: Caller, runId: string, keys: readonly string[] | null | undefined, maxPoints: number): Promise<MetricSeriesView[]> {
    check.integer('maxPoints', maxPoints, 2, MAX_CHART_POINTS);
    if (keys) check.list('keys', keys, 1, 100).forEach((key, i) => check.printable(`keys[${i}]`, key));
    const em = this.orm.em.fork();
    const run = await findInProject(em, caller, ProjectRole.VIEWER, TrainingRun, 'training run', 'runId', runId);
    const names = keys ?? (await this.keys(run.id));
    const series: MetricSeriesView[] = [];
    for (const key of names) {
      const rows = await em.find(MetricPoint, { run, name: key }, { orderBy: { step: 'asc' }, fields: ['step', 'value', 'wallTime'] });
      const kept = downsample(rows.map((r) => ({ x: r.step, y: r.value, wallTime: r.wallTime })), maxPoints);
      series.push({ key, totalPoints: rows.length, points: kept.map((p) => ({ step: p.x, value: p.y, wallTime: p.wallTime })) });
    }
    return series;
  }

  /** The metric names of a run the caller has already been allowed to see. */
  async keys(runId: string): Promise<string[]> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(MetricPoint)
      .select('name', true)
      .where({ run: runId })
      .orderBy({ name: 'asc' })
      .execute<{ name: string }[]>();
    return rows.map((r) => r.name);
  }
}
