import { DatasetFilesError } from '../../executors/data/dataset-files';
import type { DatasetLimits } from '../../executors/data/dataset-limits';
import { inspectIdxFolder } from '../../executors/data/idx-inspect';
import { MAX_CLASSES } from '../../executors/data/image-folder';
import { describeImageFolder } from '../../executors/data/image-folder-inspect';
import type { RegisteredDatasetSpec } from '../../executors/data/source';
import { searchSplit } from '../../executors/data/split';
import { DatasetFormat, ProjectRole } from '../../schema/enums';
import type { RegisterDatasetInput } from '../../schema/inputs';
import type { Orm } from '../db/orm';
import { Dataset } from '../entities';
import { badInput, userError } from '../errors';
import * as check from '../validation';
import { folderUnderRoots } from './dataset-roots';
import { findProject, inReadableProjects } from './lookup';
import type { Caller } from '../auth/caller';

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

/** Dataset folders are read only under `roots`, and no further than `limits` allow. */
export interface DatasetPolicy {
  readonly roots: readonly string[];
  readonly limits: DatasetLimits;
}

/**
 * Runs an inspection and turns a refusal into a BAD_USER_INPUT error on `input.path`. Its messages
 * name files relative to the dataset folder; a bare file-system error names only its code, since
 * Node's message would give the server path.
 */
async function inspected<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof DatasetFilesError) throw badInput('input.path', error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined) throw badInput('input.path', `a file of the dataset cannot be read (${code})`);
    throw error;
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
  constructor(
    private readonly orm: Orm,
    private readonly policy: DatasetPolicy,
  ) {}

  /**
   * Reads the dataset's shape from its files (or its synthetic spec), then carves the search
   * hold-out, and stores both with the seed and digest that reproduce the split.
   */
  async register(caller: Caller, input: RegisterDatasetInput): Promise<Dataset> {
    const name = check.name('input.name', input.name);
    const searchFraction = check.finite('input.searchFraction', input.searchFraction, 0, 0.5, true);
    const splitSeed = check.integer('input.splitSeed', input.splitSeed, 0, 0xffffffff);
    const shape = await this.inspect(input);
    if (input.classNames && input.classNames.length !== shape.numClasses) {
      throw badInput('input.classNames', `must name all ${shape.numClasses} classes (got ${input.classNames.length})`);
    }
    input.classNames?.forEach((className, i) => check.printable(`input.classNames[${i}]`, className));
    const split = searchSplit(shape.trainSize, searchFraction, splitSeed);
    return this.orm.em.fork().transactional(async (em) => {
      const project = await findProject(em, caller, ProjectRole.EDITOR, 'input.projectId', input.projectId);
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

  async list(caller: Caller, projectId: string | null | undefined): Promise<Dataset[]> {
    const where = await inReadableProjects(caller, 'projectId', projectId);
    return this.orm.em.fork().find(Dataset, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  private async inspect(input: RegisterDatasetInput): Promise<DatasetShape> {
    switch (input.format) {
      case DatasetFormat.SYNTHETIC: {
        const s = input.synthetic;
        if (!s) throw badInput('input.synthetic', 'is required when format is SYNTHETIC');
        return {
          uri: 'synthetic:',
          inputChannels: check.integer('input.synthetic.channels', s.channels, 1, 4),
          inputHeight: check.integer('input.synthetic.size', s.size, 4, 512),
          inputWidth: s.size,
          numClasses: check.integer('input.synthetic.numClasses', s.numClasses, 2, MAX_CLASSES),
          trainSize: check.integer('input.synthetic.trainSize', s.trainSize, 2, 1_000_000),
          testSize: check.integer('input.synthetic.testSize', s.testSize, 2, 1_000_000),
        };
      }
      case DatasetFormat.IMAGE_FOLDER: {
        const folder = await this.folder(input.path);
        const shape = await inspected(() => describeImageFolder(folder, this.policy.limits));
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
        const folder = await this.folder(input.path);
        const shape = await inspected(() => inspectIdxFolder(folder, this.policy.limits));
        return {
          uri: folder,
          inputChannels: shape.channels,
          inputHeight: shape.height,
          inputWidth: shape.width,
          numClasses: shape.numClasses,
          trainSize: shape.trainSize,
          testSize: shape.testSize,
        };
      }
    }
  }

  private folder(path: string | null | undefined): Promise<string> {
    if (!path) throw badInput('input.path', 'is required for datasets stored on disk');
    check.printable('input.path', path);
    return folderUnderRoots('input.path', path, this.policy.roots);
  }
}
