import {
  architectureInfo,
  buildUnitTable,
  defaultChannels,
  parseArchitecture,
  type ArchitectureName,
  type NetworkOptions,
  type UnitTable,
  type UnitSpacing,
} from '../../autoslim';
import type { CreateSearchSpaceInput } from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { Project, SearchSpace, type StoredUnit } from '../entities';
import { userError } from '../errors';
import * as check from '../validation';
import { checked } from './autoslim-input';
import { findOrReject } from './lookup';

export class SearchSpaceService {
  constructor(private readonly orm: Orm) {}

  async create(input: CreateSearchSpaceInput): Promise<SearchSpace> {
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
    const perUnit: Record<string, UnitSpacing> = {};
    input.units.forEach((o, i) => {
      const field = `input.units[${i}]`;
      if (perUnit[o.unit]) throw userError('BAD_USER_INPUT', `${field}.unit`, `unit "${o.unit}" is overridden twice`);
      perUnit[o.unit] = {
        ...(o.min != null && { minWidth: check.integer(`${field}.min`, o.min, 1) }),
        ...(o.groups != null && { groups: check.integer(`${field}.groups`, o.groups, 1, 64) }),
      };
    });
    const maxChannels = checked('input', () => defaultChannels(architecture, maxWidth, options));
    const table = checked('input', () =>
      buildUnitTable(architecture, maxChannels, options, { default: { groups, divisor }, perUnit }),
    );
    return this.orm.em.fork().transactional(async (em) => {
      const project = await findOrReject(em, Project, 'project', 'input.projectId', input.projectId);
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
        unitOverrides: Object.fromEntries(input.units.map((o) => [o.unit, { min: o.min ?? undefined, groups: o.groups ?? undefined }])),
        maxChannels: [...maxChannels],
        units: storedUnits(table),
      });
    });
  }

  list(projectId: string | null | undefined): Promise<SearchSpace[]> {
    const where = projectId ? { project: check.uuid('projectId', projectId) } : {};
    return this.orm.em.fork().find(SearchSpace, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  get(id: string): Promise<SearchSpace> {
    return findOrReject(this.orm.em.fork(), SearchSpace, 'search space', 'id', id);
  }
}

/** The stored search space's architecture and options, typed for autoslim/. */
export function networkOf(space: SearchSpace): { architecture: ArchitectureName; options: NetworkOptions } {
  return {
    architecture: parseArchitecture(space.architecture),
    options: { inputSize: space.inputSize, numClasses: space.numClasses },
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
