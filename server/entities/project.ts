import { Entity, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';

@Entity({ tableName: 'project' })
export class Project extends BaseEntity {
  @Property({ type: 'string', length: 200 })
  @Unique()
  name!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;
}
