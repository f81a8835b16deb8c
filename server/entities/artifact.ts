import { BigIntType, Entity, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Project } from './project';
import { ArtifactKind } from '../../schema/enums';

/** A file in the artifact store, addressed by content. */
@Entity({ tableName: 'artifact' })
export class Artifact extends BaseEntity {
  @ManyToOne({ entity: () => Project, nullable: true })
  project: Project | null = null;

  @Enum({ items: () => ArtifactKind, type: 'string' })
  kind!: ArtifactKind;

  @Property({ type: 'string', length: 300 })
  name!: string;

  @Property({ type: 'text' })
  uri!: string;

  @Property({ type: new BigIntType('number') })
  bytes!: number;

  @Property({ type: 'string', length: 64, index: true })
  sha256!: string;
}
