/**
 * Metric keys as trainers report them (loss, loss/narrowest, heldout_top1/widest, lr, …) turned
 * into charts people read: human names, accuracies in percent, and the configs of one metric
 * (widest and narrowest) on one shared chart.
 */

export interface MetricLine {
  /** The reported key. */
  readonly key: string;
  /** The line's name in the chart's legend. */
  readonly label: string;
}

export interface MetricChartSpec {
  /** The metric before any "/config" suffix: what the chart shows. */
  readonly family: string;
  readonly title: string;
  readonly percent: boolean;
  readonly lines: readonly MetricLine[];
}

const TITLES: Record<string, string> = {
  loss: 'Training loss',
  lr: 'Learning rate',
  images_per_s: 'Throughput (images per second)',
  heldout_top1: 'Top-1 on the search hold-out split (BN recalibrated)',
  top1: 'Top-1',
  top5: 'Top-5',
};

/** Configs a slimmable trainer reports under, widest first. */
const CONFIG_ORDER = ['widest', 'narrowest'];

function familyOf(key: string): { family: string; config: string | null } {
  const slash = key.indexOf('/');
  return slash < 0 ? { family: key, config: null } : { family: key.slice(0, slash), config: key.slice(slash + 1) };
}

export function metricTitle(family: string): string {
  return TITLES[family] ?? family.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** Accuracies are fractions; they are shown in percent. */
export function isAccuracy(family: string): boolean {
  return /top[15]|accuracy/.test(family);
}

/**
 * One chart per metric family. A bare key next to "/config" keys is the widest config's: the
 * supernet trainer reports the widest's loss as "loss" and the narrowest's as "loss/narrowest".
 */
export function metricCharts(keys: readonly string[]): MetricChartSpec[] {
  const families = new Map<string, { key: string; config: string | null }[]>();
  for (const key of keys) {
    const { family, config } = familyOf(key);
    families.set(family, [...(families.get(family) ?? []), { key, config }]);
  }
  return [...families.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([family, members]) => {
      const shared = members.length > 1;
      const rank = (config: string | null) => {
        const index = CONFIG_ORDER.indexOf(config ?? 'widest');
        return index < 0 ? CONFIG_ORDER.length : index;
      };
      const lines = [...members]
        .sort((a, b) => rank(a.config) - rank(b.config) || a.key.localeCompare(b.key))
        .map(({ key, config }) => ({ key, label: config ?? (shared ? 'widest' : metricTitle(family)) }));
      return { family, title: metricTitle(family), percent: isAccuracy(family), lines };
    });
}

/** A metric value as its chart shows it. */
export function metricValue(value: number, percent: boolean): string {
  return percent ? `${(value * 100).toFixed(2)}%` : value.toPrecision(4);
}
