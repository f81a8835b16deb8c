/**
 * The sandwich rule's config space over an autoslim unit table: widest and narrowest configs
 * with every unit at its extreme choice, and random configs with every unit drawn independently.
 */
import { ChannelList, UnitTable, buildGraph, randomConfig, uniformConfig } from '../../autoslim';
import { NetworkGraph } from '../../autoslim/graph';
import { Rng } from '../rng';
import { ConfigSpace } from './train_step';

export function unitTableSpace(table: UnitTable): ConfigSpace {
  const graphOf = (channels: ChannelList): NetworkGraph =>
    buildGraph(table.architecture, channels, table.options, table.structure);
  return {
    widest: graphOf(uniformConfig(table, 1)),
    narrowest: graphOf(uniformConfig(table, 0)),
    sample: (rng: Rng) => graphOf(randomConfig(table, () => rng.nextFloat())),
  };
}
