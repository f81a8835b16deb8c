import { Migration } from '@mikro-orm/migrations';

export class Migration20261130101628 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`app_user\` (\`id\` text not null, \`created_at\` datetime not null, \`name\` text not null, \`password_hash\` text null, \`admin\` integer not null default false, \`disabled_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create unique index \`app_user_name_unique\` on \`app_user\` (\`name\`);`);

    this.addSql(`create table \`project_member\` (\`id\` text not null, \`created_at\` datetime not null, \`project_id\` text not null, \`user_id\` text not null, \`role\` text check (\`role\` in ('VIEWER', 'EDITOR', 'OWNER')) not null, constraint \`project_member_project_id_foreign\` foreign key(\`project_id\`) references \`project\`(\`id\`) on delete cascade on update cascade, constraint \`project_member_user_id_foreign\` foreign key(\`user_id\`) references \`app_user\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`project_member_project_id_index\` on \`project_member\` (\`project_id\`);`);
    this.addSql(`create index \`project_member_user_id_index\` on \`project_member\` (\`user_id\`);`);
    this.addSql(`create unique index \`project_member_project_id_user_id_unique\` on \`project_member\` (\`project_id\`, \`user_id\`);`);

    this.addSql(`create table \`api_token\` (\`id\` text not null, \`created_at\` datetime not null, \`user_id\` text not null, \`name\` text not null, \`secret_hash\` text not null, \`prefix\` text not null, \`scopes\` json not null, \`expires_at\` datetime null, \`last_used_at\` datetime null, \`revoked_at\` datetime null, constraint \`api_token_user_id_foreign\` foreign key(\`user_id\`) references \`app_user\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_token_user_id_index\` on \`api_token\` (\`user_id\`);`);
    this.addSql(`create unique index \`api_token_secret_hash_unique\` on \`api_token\` (\`secret_hash\`);`);
    this.addSql(`create unique index \`api_token_user_id_name_unique\` on \`api_token\` (\`user_id\`, \`name\`);`);

    this.addSql(`create table \`web_session\` (\`id\` text not null, \`created_at\` datetime not null, \`user_id\` text not null, \`secret_hash\` text not null, \`csrf_token\` text not null, \`expires_at\` datetime not null, \`last_used_at\` datetime not null, constraint \`web_session_user_id_foreign\` foreign key(\`user_id\`) references \`app_user\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`web_session_user_id_index\` on \`web_session\` (\`user_id\`);`);
    this.addSql(`create unique index \`web_session_secret_hash_unique\` on \`web_session\` (\`secret_hash\`);`);
    this.addSql(`create index \`web_session_expires_at_index\` on \`web_session\` (\`expires_at\`);`);
  }

}
