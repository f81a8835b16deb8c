import {
  AutoSlimError,
  architectureInfo,
  defaultChannels,
  parseArchitecture,
  parseChannelList,
  type ArchitectureName,
  type ChannelList,
  type NetworkOptions,
  type UnitTable,
} from '../../autoslim';
import { resolveSearchSpace, type SearchSpaceSpec } from '../../executors/search-space';
import type { CreateSearchSpaceInput } from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { ProjectRole } from '../../schema/enums';
import { SearchSpace, type StoredUnit } from '../entities';
import { badInput, userError } from '../errors';
import * as check from '../validation';
import { checked } from './autoslim-input';
import { findInProject, findProject, inReadableProjects } from './lookup';
import type { Caller } from '../auth/caller';

export class SearchSpaceService {
  constructor(private readonly orm: Orm) {}

  async create(caller: Caller, input: CreateSearchSpaceInput): Promise<SearchSpace> {
    const name = check.name('input.name', input.name);
    const architecture = checked('input', () => parseArchitecture(input.architecture));
    const info = architectureInfo(architecture);
    const options: NetworkOptions = {
      inputSize: check.integer('input.inputSize', input.inputSize ?? info.defaultInputSize, 1, 4096),
      numClasses: check.integer('input.numClasses', input.numClasses ?? info.defaultNumClasses, 2, 100_000),
    };
    const maxWidth = check.finite('input.maxWidth', input.maxWidth ?? info.defaultStartWidth, 0.15, 1.5);
    const groups = check.integer('input.groups', input.groups, 1, 64);
    const divisor = check.integer('input.divisor', input.divisor, 1, 64);
    check.list('input.units', input.units, 0);
    // No prototype: a unit named "constructor" or "__proto__" is a key like any other (and unknown).
    const unitOverrides: Record<string, { min?: number; groups?: number }> = Object.create(null);
    input.units.forEach((o, i) => {
      const field = `input.units[${i}]`;
      if (o.unit in unitOverrides) throw userError('BAD_USER_INPUT', `${field}.unit`, `unit "${o.unit}" is overridden twice`);
      unitOverrides[o.unit] = {
        ...(o.min != null && { min: check.integer(`${field}.min`, o.min, 1) }),
        ...(o.groups != null && { groups: check.integer(`${field}.groups`, o.groups, 1, 64) }),
      };
    });
    const maxChannels = checked('input', () => defaultChannels(architecture, maxWidth, options));
    const spec: SearchSpaceSpec = { architecture, ...options, maxChannels, groups, divisor, unitOverrides };
    const { table } = checked('input', () => inputFields(input, () => resolveSearchSpace(spec)));
    return this.orm.em.fork().transactional(async (em) => {
      const project = await findProject(em, caller, ProjectRole.EDITOR, 'input.projectId', input.projectId);
      if (await em.count(SearchSpace, { project, name })) {
        throw userError('CONFLICT', 'input.name', `project already has a search space named "${name}"`);
      }
      return em.create(SearchSpace, {
        project,
        name,
        architecture,
        ...options,
        maxWidth,
        groups,
        divisor,
        unitOverrides: { ...unitOverrides },
        maxChannels: [...maxChannels],
        units: storedUnits(table),
      });
    });
  }

  async list(caller: Caller, projectId: string | null | undefined): Promise<SearchSpace[]> {
    const where = await inReadableProjects(caller, 'projectId', projectId);
    return this.orm.em.fork().find(SearchSpace, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  get(caller: Caller, id: string): Promise<SearchSpace> {
    return findInProject(this.orm.em.fork(), caller, ProjectRole.VIEWER, SearchSpace, 'search space', 'id', id);
  }
}

/**
 * Runs `resolve` and renames the fields of its AutoSlimError from autoslim's unit options
 * (`unitOptions.perUnit.<unit>.minWidth`, `unitOptions.default.groups`) to the input's
 * (`units[i].min`, `groups`), so the error names the field the user gave.
 */
function inputFields<T>(input: CreateSearchSpaceInput, resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    if (!(error instanceof AutoSlimError)) throw error;
    const renamed = renamedUnitField(input, error.field);
    if (renamed === null) throw error;
    throw new AutoSlimError(renamed, error.rule, error.message.slice(`${error.field}: ${error.rule}: `.length));
  }
}

function renamedUnitField(input: CreateSearchSpaceInput, field: string): string | null {
  const defaults: Record<string, string> = { 'unitOptions.default.groups': 'groups', 'unitOptions.default.divisor': 'divisor' };
  if (Object.hasOwn(defaults, field)) return defaults[field]!;
  // Unit names have dots in them ('blocks.1.out'): the longest override name the field starts with is its unit.
  const [match] = input.units
    .map((o, i) => ({ i, own: `unitOptions.perUnit.${o.unit}` }))
    .filter(({ own }) => field === own || field.startsWith(`${own}.`))
    .sort((a, b) => b.own.length - a.own.length);
  if (!match) return null;
  const option: Record<string, string> = { '': '.unit', '.minWidth': '.min', '.groups': '.groups' };
  return `units[${match.i}]${option[field.slice(match.own.length)] ?? ''}`;
}

/** The stored search space's architecture and options, typed for autoslim/. */
export function networkOf(space: SearchSpace): { architecture: ArchitectureName; options: NetworkOptions } {
  return {
    architecture: parseArchitecture(space.architecture),
    options: { inputSize: space.inputSize, numClasses: space.numClasses },
  };
}

/**
 * A channel list a user gives for a configuration of the search space (`inputPath`.channels):
 * the architecture's rules, and the space's own: each unit is a multiple of the divisor or at its
 * widest, as every width the search itself can pick is.
 */
export function userConfig(space: SearchSpace, channels: readonly number[], inputPath: string): ChannelList {
  const { architecture, options } = networkOf(space);
  const structure = parseChannelList(architecture, space.maxChannels, options);
  const list = checked(inputPath, () => parseChannelList(architecture, channels, options, structure));
  for (const unit of space.units) {
    const slot = unit.members[0]!;
    const width = list[slot]!;
    if (width !== unit.max && width % space.divisor !== 0) {
      throw badInput(
        `${inputPath}.channels[${slot}]`,
        `unit ${unit.name} has ${width} channels; this search space takes multiples of ${space.divisor}, or the unit's widest (${unit.max})`,
      );
    }
  }
  return list;
}

/** What executors are told about a stored search space. */
export function searchSpaceSpec(space: SearchSpace): SearchSpaceSpec {
  return {
    architecture: space.architecture,
    inputSize: space.inputSize,
    numClasses: space.numClasses,
    maxChannels: space.maxChannels,
    groups: space.groups,
    divisor: space.divisor,
    unitOverrides: space.unitOverrides,
  };
}

function storedUnits(table: UnitTable): StoredUnit[] {
  return table.units.map((u) => ({
    index: u.index,
    name: u.name,
    members: [...u.members],
    layers: [...u.layers],
    max: u.max,
    min: u.min,
    choices: [...u.choices],
  }));
}
