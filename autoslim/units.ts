import { ArchitectureName } from './architecture';
import { ChannelList, checkedList, parseChannelList } from './channels';
import { makeDivisible } from './divisible';
import { AutoSlimError } from './errors';
import { NetworkOptions } from './options';
import { NetworkPlan } from './plan';
import { equivalenceClasses } from './union-find';

/** An independent width of a search space: channel-list slots that must always be equal. */
export interface ChannelUnit {
  readonly index: number;
  /** The name of its first channel-list slot, e.g. 'blocks.3.mid'. */
  readonly name: string;
  /** Channel-list indices, ascending. */
  readonly members: readonly number[];
  /** Graph nodes whose output width this unit sets (expand conv and its depthwise, for instance). */
  readonly layers: readonly string[];
  readonly max: number;
  readonly min: number;
  /** Widths a configuration may give the unit, ascending; the last is `max`. */
  readonly choices: readonly number[];
}

export interface UnitTable {
  readonly architecture: ArchitectureName;
  readonly options: NetworkOptions;
  /** The supernet's widest list; it fixes the structure of every configuration. */
  readonly structure: ChannelList;
  readonly units: readonly ChannelUnit[];
}

/**
 * How a unit is cut into groups. By default 12 groups of the max (widths max·k/12 rounded to
 * multiples of 8, as mmrazor does); `groupSize` instead removes that many channels per group, as
 * the reference slimming does. `minWidth` drops narrower choices.
 */
export interface UnitSpacing {
  readonly groups?: number;
  readonly groupSize?: number;
  readonly divisor?: number;
  readonly minWidth?: number;
}

export interface UnitOptions {
  /** Applies to every unit; a `minWidth` above a unit's max leaves that unit at its max. */
  readonly default?: UnitSpacing;
  /** Overrides per unit, keyed by unit name. */
  readonly perUnit?: Readonly<Record<string, UnitSpacing>>;
}

export const DEFAULT_GROUPS = 12;
export const DEFAULT_DIVISOR = 8;

export function buildUnitTable(
  arch: ArchitectureName,
  maxChannels: ChannelList,
  opts: NetworkOptions,
  unitOptions: UnitOptions = {},
): UnitTable {
  const { list, plan } = checkedList(arch, maxChannels, opts);
  const slotClasses = equivalenceClasses(
    list.length,
    plan.couplings.map((c) => c.slots),
  ).filter((members) => !members.includes(plan.classesSlot));
  const knownNames = new Set(slotClasses.map((members) => plan.slotNames[members[0]]));
  for (const name of Object.keys(unitOptions.perUnit ?? {})) {
    if (!knownNames.has(name)) {
      throw new AutoSlimError(`unitOptions.perUnit.${name}`, 'known-unit', `${arch} has no unit named '${name}'`);
    }
  }
  const units = slotClasses.map((members, index): ChannelUnit => {
    const name = plan.slotNames[members[0]];
    const max = list[members[0]];
    const choices = widthChoices(max, spacingOf(unitOptions, name, max));
    return { index, name, members, layers: layersOf(plan, members), max, min: choices[0], choices };
  });
  return { architecture: arch, options: opts, structure: list, units };
}

/** The full channel list of a configuration given one width per unit (each one of its choices). */
export function channelsFromUnitWidths(table: UnitTable, widths: readonly number[]): ChannelList {
  if (widths.length !== table.units.length) {
    throw new AutoSlimError('widths', 'length', `the search space has ${table.units.length} units, got ${widths.length} widths`);
  }
  const list = table.structure.slice();
  table.units.forEach((unit, i) => {
    if (!unit.choices.includes(widths[i])) {
      throw new AutoSlimError(`widths[${i}]`, 'choice', `unit ${unit.name} allows ${unit.choices.join(', ')}; got ${widths[i]}`);
    }
    for (const slot of unit.members) list[slot] = widths[i];
  });
  return parseChannelList(table.architecture, list, table.options, table.structure);
}

/** One width per unit, read from a configuration of the table's search space. */
export function unitWidthsOf(table: UnitTable, channels: ChannelList): number[] {
  const list = parseChannelList(table.architecture, channels, table.options, table.structure);
  return table.units.map((unit) => list[unit.members[0]]);
}

function layersOf(plan: NetworkPlan, members: readonly number[]): string[] {
  return plan.layers.flatMap((layer) => (layer.kind === 'conv' && members.includes(layer.slot) ? [layer.name] : []));
}

/** A unit's spacing after merging defaults and overrides; `field` is where its errors point. */
interface ResolvedSpacing {
  readonly field: string;
  readonly groups?: number;
  readonly groupSize?: number;
  readonly divisor: number;
  readonly minWidth: number;
}

/**
 * Per-unit settings override the defaults field by field, except that groups and groupSize are
 * one choice: a unit giving either replaces the default's way of grouping.
 */
function spacingOf(unitOptions: UnitOptions, name: string, max: number): ResolvedSpacing {
  const own = unitOptions.perUnit?.[name];
  const base = unitOptions.default;
  const field = own ? `unitOptions.perUnit.${name}` : 'unitOptions.default';
  const grouping = own?.groups !== undefined || own?.groupSize !== undefined ? own : base;
  // A search-wide minimum leaves narrower units at their own width; a unit's own minimum must fit it.
  const minWidth = own?.minWidth ?? Math.min(base?.minWidth ?? 1, max);
  return {
    field,
    groups: grouping?.groups,
    groupSize: grouping?.groupSize,
    divisor: own?.divisor ?? base?.divisor ?? DEFAULT_DIVISOR,
    minWidth,
  };
}

function widthChoices(max: number, { field, groups, groupSize, divisor, minWidth }: ResolvedSpacing): number[] {
  checkPositiveInteger(`${field}.divisor`, divisor);
  checkPositiveInteger(`${field}.minWidth`, minWidth);
  if (minWidth > max) {
    throw new AutoSlimError(`${field}.minWidth`, 'maximum', `minimum width ${minWidth} is above the unit's maximum ${max}`);
  }
  let widths: number[];
  if (groupSize !== undefined) {
    if (groups !== undefined) throw new AutoSlimError(field, 'exclusive', 'give either groups or groupSize, not both');
    checkPositiveInteger(`${field}.groupSize`, groupSize);
    widths = Array.from({ length: Math.ceil(max / groupSize) }, (_, k) => max - k * groupSize);
  } else {
    const count = groups ?? DEFAULT_GROUPS;
    checkPositiveInteger(`${field}.groups`, count);
    // The widest choice is always the unit's own maximum, even where rounding would move it.
    widths = Array.from({ length: count - 1 }, (_, k) => Math.min(max, makeDivisible((max * (k + 1)) / count, divisor)));
    widths.push(max);
  }
  return [...new Set(widths)].filter((w) => w >= minWidth).sort((a, b) => a - b);
}

function checkPositiveInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new AutoSlimError(field, 'positive-integer', `${value} must be an integer of at least 1`);
  }
}
