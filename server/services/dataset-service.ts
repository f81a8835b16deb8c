import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadIdxSplit } from '../../executors/data/idx';
import { describeImageFolder } from '../../executors/data/image-folder';
import type { RegisteredDatasetSpec } from '../../executors/data/source';
import { searchSplit } from '../../executors/data/split';
import { DatasetFormat } from '../../schema/enums';
import type { RegisterDatasetInput } from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { Dataset, Project } from '../entities';
import { badInput, userError } from '../errors';
import * as check from '../validation';
import { findOrReject } from './lookup';

/** What executors are told about a stored dataset. */
export function datasetSpec(dataset: Dataset): RegisteredDatasetSpec {
  return {
    id: dataset.id,
    format: dataset.format,
    uri: dataset.uri,
    inputChannels: dataset.inputChannels,
    inputHeight: dataset.inputHeight,
    numClasses: dataset.numClasses,
    trainSize: dataset.trainSize,
    testSize: dataset.testSize,
    searchFraction: dataset.searchFraction,
    splitSeed: dataset.splitSeed,
  };
}

/** Runs a loader's check and turns its error into a BAD_USER_INPUT error on `field`. */
function inspected<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw badInput(field, (error as Error).message);
  }
}

interface DatasetShape {
  uri: string;
  inputChannels: number;
  inputHeight: number;
  inputWidth: number;
  numClasses: number;
  trainSize: number;
  testSize: number;
  classNames?: readonly string[];
}

export class DatasetService {
  constructor(private readonly orm: Orm) {}

  /**
   * Reads the dataset's shape from its files (or its synthetic spec), then carves the search
   * hold-out, and stores both with the seed and digest that reproduce the split.
   */
  async register(input: RegisterDatasetInput): Promise<Dataset> {
    const name = check.name('input.name', input.name);
    const searchFraction = check.finite('input.searchFraction', input.searchFraction, 0, 0.5, true);
    const splitSeed = check.integer('input.splitSeed', input.splitSeed, 0, 0xffffffff);
    const shape = this.inspect(input);
    if (input.classNames && input.classNames.length !== shape.numClasses) {
      throw badInput('input.classNames', `must name all ${shape.numClasses} classes (got ${input.classNames.length})`);
    }
    input.classNames?.forEach((className, i) => check.printable(`input.classNames[${i}]`, className));
    const split = searchSplit(shape.trainSize, searchFraction, splitSeed);
    return this.orm.em.fork().transactional(async (em) => {
      const project = await findOrReject(em, Project, 'project', 'input.projectId', input.projectId);
      if (await em.count(Dataset, { project, name })) {
        throw userError('CONFLICT', 'input.name', `project already has a dataset named "${name}"`);
      }
      return em.create(Dataset, {
        project,
        name,
        format: input.format,
        ...shape,
        classNames: input.classNames ?? (shape.classNames ? [...shape.classNames] : null),
        searchFraction,
        splitSeed,
        searchSize: split.searchIndices.length,
        splitDigest: split.digest,
      });
    });
  }

  list(projectId: string | null | undefined): Promise<Dataset[]> {
    const where = projectId ? { project: check.uuid('projectId', projectId) } : {};
    return this.orm.em.fork().find(Dataset, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  private inspect(input: RegisterDatasetInput): DatasetShape {
    switch (input.format) {
      case DatasetFormat.SYNTHETIC: {
        const s = input.synthetic;
        if (!s) throw badInput('input.synthetic', 'is required when format is SYNTHETIC');
        return {
          uri: 'synthetic:',
          inputChannels: check.integer('input.synthetic.channels', s.channels, 1, 4),
          inputHeight: check.integer('input.synthetic.size', s.size, 4, 512),
          inputWidth: s.size,
          numClasses: check.integer('input.synthetic.numClasses', s.numClasses, 2, 1000),
          trainSize: check.integer('input.synthetic.trainSize', s.trainSize, 2, 1_000_000),
          testSize: check.integer('input.synthetic.testSize', s.testSize, 1, 1_000_000),
        };
      }
      case DatasetFormat.IMAGE_FOLDER: {
        const folder = this.folder(input.path);
        const shape = inspected('input.path', () => describeImageFolder(folder));
        return {
          uri: folder,
          inputChannels: shape.channels,
          inputHeight: shape.height,
          inputWidth: shape.width,
          numClasses: shape.classNames.length,
          trainSize: shape.trainSize,
          testSize: shape.testSize,
          classNames: shape.classNames,
        };
      }
      case DatasetFormat.IDX: {
        const folder = this.folder(input.path);
        const train = inspected('input.path', () => loadIdxSplit(folder, 'train'));
        const test = inspected('input.path', () => loadIdxSplit(folder, 'test'));
        return {
          uri: folder,
          inputChannels: train.channels,
          inputHeight: train.height,
          inputWidth: train.width,
          numClasses: train.labels.reduce((max, label) => Math.max(max, label), 0) + 1,
          trainSize: train.count,
          testSize: test.count,
        };
      }
    }
  }

  private folder(path: string | null | undefined): string {
    if (!path) throw badInput('input.path', 'is required for datasets stored on disk');
    check.printable('input.path', path);
    const folder = resolve(path);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) throw badInput('input.path', `"${folder}" is not a folder`);
    return folder;
  }
}
