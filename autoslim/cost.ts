import { CostFn } from './greedy';
import { CostConvention, profile } from './profile';
import { UnitTable } from './units';

export type CostMetric = 'macs' | 'params';

/** MACs or params of configurations of a search space, counted with its supernet's structure. */
export function profileCost(table: UnitTable, metric: CostMetric, convention: CostConvention = 'reference'): CostFn {
  return (channels) => profile(table.architecture, channels, table.options, convention, table.structure)[metric];
}
