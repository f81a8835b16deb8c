import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/core';
import type { DatasetNormalization } from '../../executors/data/manifest';
import { Artifact } from './artifact';
import { BaseEntity } from './base';
import { Project } from './project';
import { DatasetFormat } from '../../schema/enums';

/**
 * Where the images are and how the training set is split. The search hold-out is carved from the
 * training images by a seeded shuffle; search never touches the test split.
 */
@Entity({ tableName: 'dataset' })
@Unique({ properties: ['project', 'name'] })
export class Dataset extends BaseEntity {
  @ManyToOne({ entity: () => Project })
  project!: Project;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Enum({ items: () => DatasetFormat, type: 'string' })
  format!: DatasetFormat;

  @Property({ type: 'text' })
  uri!: string;

  @Property({ type: 'integer' })
  inputChannels!: number;

  /** The images' size when they share one; the smallest height and width when they vary. */
  @Property({ type: 'integer' })
  inputHeight!: number;

  @Property({ type: 'integer' })
  inputWidth!: number;

  @Property({ type: 'boolean', default: false })
  sizesVary: boolean = false;

  /** Every sample, made at registration; null for SYNTHETIC and for datasets registered before manifests. */
  @ManyToOne({ entity: () => Artifact, nullable: true })
  manifest: Artifact | null = null;

  /** Mean and deviation over the training split less the hold-out, computed at registration. */
  @Property({ type: 'json', nullable: true })
  normalization: DatasetNormalization | null = null;

  /** Images that cannot be read are skipped and counted rather than failing the job. */
  @Property({ type: 'boolean', default: false })
  skipCorrupt: boolean = false;

  /** Files left out at registration because their header could not be read (skipCorrupt). */
  @Property({ type: 'integer', default: 0 })
  skippedFiles: number = 0;

  @Property({ type: 'integer' })
  numClasses!: number;

  @Property({ type: 'json', nullable: true })
  classNames: string[] | null = null;

  @Property({ type: 'integer' })
  trainSize!: number;

  @Property({ type: 'integer' })
  testSize!: number;

  @Property({ type: 'double' })
  searchFraction!: number;

  @Property({ type: 'integer' })
  splitSeed!: number;

  /** sha256 of the search hold-out's indices, so two splits can be compared without loading them. */
  @Property({ type: 'string', length: 64, nullable: true })
  splitDigest: string | null = null;

  @Property({ type: 'integer', nullable: true })
  searchSize: number | null = null;

  /**
   * sha256 of the dataset's file manifest (relative path, size and sha256 of every file), so a
   * worker can check a local copy before using it. Computed when first shipped; null for SYNTHETIC.
   */
  @Property({ type: 'string', length: 64, nullable: true })
  contentDigest: string | null = null;
}
