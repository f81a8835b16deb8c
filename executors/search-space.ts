import {
  buildUnitTable,
  parseArchitecture,
  parseChannelList,
  type ArchitectureName,
  type ChannelList,
  type NetworkOptions,
  type UnitSpacing,
  type UnitTable,
} from '../autoslim';

/** A search space as the server hands it to executors: enough to rebuild its unit table exactly. */
export interface SearchSpaceSpec {
  readonly architecture: string;
  readonly inputSize: number;
  readonly numClasses: number;
  /** The widest channel list; it fixes the structure of every configuration. */
  readonly maxChannels: readonly number[];
  readonly groups: number;
  readonly divisor: number;
  readonly unitOverrides: Readonly<Record<string, { readonly min?: number; readonly groups?: number }>>;
}

export interface ResolvedSearchSpace {
  readonly architecture: ArchitectureName;
  readonly options: NetworkOptions;
  readonly structure: ChannelList;
  readonly table: UnitTable;
}

export function resolveSearchSpace(spec: SearchSpaceSpec): ResolvedSearchSpace {
  const architecture = parseArchitecture(spec.architecture);
  const options = { inputSize: spec.inputSize, numClasses: spec.numClasses };
  const structure = parseChannelList(architecture, spec.maxChannels, options);
  // No prototype, so an override of a unit named "__proto__" is an (unknown) unit, not a prototype.
  const perUnit: Record<string, UnitSpacing> = Object.create(null);
  for (const [unit, o] of Object.entries(spec.unitOverrides)) {
    perUnit[unit] = { ...(o.min !== undefined && { minWidth: o.min }), ...(o.groups !== undefined && { groups: o.groups }) };
  }
  const table = buildUnitTable(architecture, structure, options, { default: { groups: spec.groups, divisor: spec.divisor }, perUnit });
  return { architecture, options, structure, table };
}
