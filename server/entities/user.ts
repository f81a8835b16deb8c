import { Entity, Enum, Index, ManyToOne, type Opt, Property, Unique } from '@mikro-orm/core';
import { ProjectRole, TokenScope } from '../../schema/enums';
import { BaseEntity } from './base';
import { Project } from './project';

/** Someone who signs in. A user without a password signs in only with API tokens. */
@Entity({ tableName: 'app_user' })
export class User extends BaseEntity {
  @Property({ type: 'string', length: 64 })
  @Unique()
  name!: string;

  /** scrypt, with its parameters and salt (see server/auth/passwords.ts); never the password. */
  @Property({ type: 'string', length: 255, nullable: true, hidden: true })
  passwordHash: string | null = null;

  /** Admins see and manage every project, user and token. */
  @Property({ type: 'boolean' })
  admin: Opt<boolean> = false;

  /** A disabled user's tokens and sessions stop working at once; their history stays. */
  @Property({ type: 'datetime', nullable: true })
  disabledAt: Date | null = null;
}

/** An API token: only its SHA-256 is stored, so a database dump gives no usable token. */
@Entity({ tableName: 'api_token' })
@Unique({ properties: ['user', 'name'] })
export class ApiToken extends BaseEntity {
  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Property({ type: 'string', length: 64, hidden: true })
  @Unique()
  secretHash!: string;

  /** The first characters of the token, so a user can tell their tokens apart; not enough to guess it. */
  @Property({ type: 'string', length: 16 })
  prefix!: string;

  @Property({ type: 'json' })
  scopes!: TokenScope[];

  @Property({ type: 'datetime', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;
}

/** A browser session behind the HttpOnly cookie; the cookie holds a secret whose SHA-256 is stored here. */
@Entity({ tableName: 'web_session' })
export class WebSession extends BaseEntity {
  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'string', length: 64, hidden: true })
  @Unique()
  secretHash!: string;

  /** Sent back by the page on every request it makes (header x-csrf-token); a cross-site form cannot know it. */
  @Property({ type: 'string', length: 64, hidden: true })
  csrfToken!: string;

  @Property({ type: 'datetime' })
  @Index()
  expiresAt!: Date;

  @Property({ type: 'datetime' })
  lastUsedAt: Opt<Date> = new Date();
}

/** A user's role in a project: viewer reads, editor also runs work, owner also manages members. */
@Entity({ tableName: 'project_member' })
@Unique({ properties: ['project', 'user'] })
export class ProjectMember extends BaseEntity {
  @ManyToOne({ entity: () => Project, deleteRule: 'cascade' })
  project!: Project;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  @Index()
  user!: User;

  @Enum({ items: () => ProjectRole })
  role!: ProjectRole;
}
