import { ChannelList } from './channels';
import { AutoSlimError } from './errors';
import { UnitTable, channelsFromUnitWidths } from './units';

/** A source of uniform numbers in [0, 1), injected so that sampling is reproducible. */
export type Rng = () => number;

/**
 * Every unit at the same relative position among its choices: 1 is the widest config, 0 the
 * narrowest (the two ends of the sandwich rule).
 */
export function uniformConfig(table: UnitTable, position: number): ChannelList {
  if (!(position >= 0 && position <= 1)) throw new AutoSlimError('position', 'range', `${position} is outside [0, 1]`);
  return channelsFromUnitWidths(
    table,
    table.units.map((u) => u.choices[Math.round(position * (u.choices.length - 1))]),
  );
}

/** Each unit's width drawn independently and uniformly from its choices. */
export function randomConfig(table: UnitTable, rng: Rng): ChannelList {
  return channelsFromUnitWidths(
    table,
    table.units.map((u) => u.choices[Math.min(u.choices.length - 1, Math.floor(rng() * u.choices.length))]),
  );
}
