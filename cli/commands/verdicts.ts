import type { Api } from '../api';
import type { Io } from '../io';
import { humanCount } from '../../autoslim';
import { formatTable, percent, shortId } from '../table';

interface Interval {
  estimate: number;
  low: number | null;
  high: number | null;
  n: number;
}

interface Side {
  id: string;
  configHash: string;
  macs: number;
  params: number;
  widthMultiplier: number | null;
  retrainedTop1: Interval | null;
}

interface PickedCandidate extends Side {
  comparison: { baseline: Side; difference: Interval | null; verdict: string } | null;
}

interface Trajectory {
  id: string;
  bnMode: string;
  constraint: string;
  /** One per budget, largest first; the candidate may be one another trajectory found first. */
  picks: { target: number; candidate: PickedCandidate }[];
}

interface Study {
  seeds: number[];
  complete: boolean;
  configs: unknown[];
  correlations: { bnMode: string; configs: number; kendallTau: Interval | null; spearmanRho: Interval | null }[];
}

const SIDE = 'id configHash macs params widthMultiplier retrainedTop1 { estimate low high n }';
const TRAJECTORY = `query($id: ID!) { trajectory(id: $id) { id bnMode constraint
  picks { target candidate { ${SIDE} comparison { difference { estimate low high n } verdict baseline { ${SIDE} } } } } } }`;
const STUDY = `query($id: ID!) { rankingStudy(id: $id) { seeds complete configs { origin }
  correlations { bnMode configs kendallTau { estimate low high n } spearmanRho { estimate low high n } } } }`;

const VERDICTS: Record<string, string> = {
  BETTER: 'AutoSlim better',
  WORSE: 'AutoSlim worse',
  INDISTINGUISHABLE: 'not distinguishable',
  INSUFFICIENT: 'no verdict (fewer than 2 paired seeds)',
};

/**
 * The closing summary of a search: per trajectory and budget, the AutoSlim configuration against
 * its matched uniform baseline with the paired difference and its verdict; then how well the
 * supernet ranks configurations, when a ranking study ran. Says plainly when the run is too small
 * to tell.
 */
export async function printVerdicts(api: Api, io: Io, trajectoryIds: readonly string[], studyId: string | null): Promise<void> {
  let seedsSeen = 0;
  for (const id of trajectoryIds) {
    const { trajectory } = await api.request<{ trajectory: Trajectory }>(TRAJECTORY, { id });
    io.out(`\nAutoSlim against uniform width, trajectory ${id.slice(0, 8)} (${trajectory.constraint}, BN ${trajectory.bnMode}):\n`);
    const rows = trajectory.picks.map(({ target, candidate: c }) => {
      const baseline = c.comparison?.baseline ?? null;
      seedsSeen = Math.max(seedsSeen, c.retrainedTop1?.n ?? 0, baseline?.retrainedTop1?.n ?? 0);
      return [
        humanCount(target),
        `${shortId(c.id)} ${c.configHash.slice(0, 10)}`,
        `${humanCount(c.macs)} / ${humanCount(c.params)}`,
        interval(c.retrainedTop1),
        baseline ? `${shortId(baseline.id)} ${baseline.widthMultiplier?.toFixed(3) ?? '?'}x ${humanCount(baseline.macs)} / ${humanCount(baseline.params)}` : 'none made',
        interval(baseline?.retrainedTop1 ?? null),
        c.comparison ? points(c.comparison.difference) : '-',
        c.comparison ? (VERDICTS[c.comparison.verdict] ?? c.comparison.verdict) : 'no matched uniform baseline',
      ];
    });
    io.out(
      formatTable(
        ['budget', 'AutoSlim id / config', 'MACs / params', 'top-1 (95% CI)', 'uniform id / width', 'top-1 (95% CI)', 'difference (paired)', 'verdict'],
        rows,
        [true, false, true, true, false, true, true, false],
      ),
    );
  }
  if (seedsSeen < 2) {
    io.out('\nOne seed per configuration: no interval, so no verdict. This run is too small to say whether AutoSlim beats uniform width.\n');
  }
  if (!studyId) {
    io.out('No ranking study ran: nothing here measures how well this supernet ranks configurations (add a `study` section).\n');
    return;
  }
  const { rankingStudy: study } = await api.request<{ rankingStudy: Study }>(STUDY, { id: studyId });
  io.out(`\nRanking study (${study.configs.length} configurations, seeds ${study.seeds.join(', ')}${study.complete ? '' : ', incomplete'}):\n`);
  for (const c of study.correlations) {
    io.out(`  ${c.bnMode.padEnd(12)}  Kendall τ ${correlation(c.kendallTau)}   Spearman ρ ${correlation(c.spearmanRho)}   over ${c.configs} configurations\n`);
  }
}

function interval(value: Interval | null): string {
  if (!value) return '-';
  const half = value.low == null || value.high == null ? null : (value.high - value.low) / 2;
  return half == null ? `${percent(value.estimate)} (n=${value.n})` : `${percent(value.estimate)} ± ${(100 * half).toFixed(2)} (n=${value.n})`;
}

/** A difference of accuracies, in percentage points. */
function points(value: Interval | null): string {
  if (!value) return 'no shared seed';
  const sign = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}`;
  return value.low == null || value.high == null ? `${sign(value.estimate)} pt (n=${value.n})` : `${sign(value.estimate)} pt [${sign(value.low)}, ${sign(value.high)}]`;
}

function correlation(value: Interval | null): string {
  if (!value) return 'n/a';
  return value.low == null || value.high == null ? `${value.estimate.toFixed(3)}` : `${value.estimate.toFixed(3)} [${value.low.toFixed(3)}, ${value.high.toFixed(3)}]`;
}
