import { Migration } from '@mikro-orm/migrations';

export class Migration20261130101629 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "app_user" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(64) not null, "password_hash" varchar(255) null, "admin" boolean not null default false, "disabled_at" timestamptz null, constraint "app_user_pkey" primary key ("id"));`);
    this.addSql(`alter table "app_user" add constraint "app_user_name_unique" unique ("name");`);

    this.addSql(`create table "project_member" ("id" uuid not null, "created_at" timestamptz not null, "project_id" uuid not null, "user_id" uuid not null, "role" text check ("role" in ('VIEWER', 'EDITOR', 'OWNER')) not null, constraint "project_member_pkey" primary key ("id"));`);
    this.addSql(`create index "project_member_user_id_index" on "project_member" ("user_id");`);
    this.addSql(`alter table "project_member" add constraint "project_member_project_id_user_id_unique" unique ("project_id", "user_id");`);

    this.addSql(`create table "api_token" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "name" varchar(100) not null, "secret_hash" varchar(64) not null, "prefix" varchar(16) not null, "scopes" jsonb not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_token_pkey" primary key ("id"));`);
    this.addSql(`alter table "api_token" add constraint "api_token_secret_hash_unique" unique ("secret_hash");`);
    this.addSql(`alter table "api_token" add constraint "api_token_user_id_name_unique" unique ("user_id", "name");`);

    this.addSql(`create table "web_session" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "secret_hash" varchar(64) not null, "csrf_token" varchar(64) not null, "expires_at" timestamptz not null, "last_used_at" timestamptz not null, constraint "web_session_pkey" primary key ("id"));`);
    this.addSql(`alter table "web_session" add constraint "web_session_secret_hash_unique" unique ("secret_hash");`);
    this.addSql(`create index "web_session_expires_at_index" on "web_session" ("expires_at");`);

    this.addSql(`alter table "project_member" add constraint "project_member_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "project_member" add constraint "project_member_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_token" add constraint "api_token_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "web_session" add constraint "web_session_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "project_member" drop constraint "project_member_user_id_foreign";`);

    this.addSql(`alter table "api_token" drop constraint "api_token_user_id_foreign";`);

    this.addSql(`alter table "web_session" drop constraint "web_session_user_id_foreign";`);

    this.addSql(`drop table if exists "app_user" cascade;`);

    this.addSql(`drop table if exists "project_member" cascade;`);

    this.addSql(`drop table if exists "api_token" cascade;`);

    this.addSql(`drop table if exists "web_session" cascade;`);
  }

}
