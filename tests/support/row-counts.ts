import type { EntityMetadata } from '@mikro-orm/core';
import type { Orm } from '../../server/db/orm';

/**
 * Cheap fingerprints of what the database holds, to tell whether a request wrote anything: row
 * counts per table, and the columns mutations change in place (a job's state, a member's role, a
 * token's revocation, a user's password and disabling), which counts alone would miss.
 */
export class RowCounts {
  private readonly tables: readonly { table: string; project: string | null }[];

  constructor(private readonly orm: Orm) {
    const entities = Object.values(orm.getMetadata().getAll()) as EntityMetadata[];
    this.tables = entities
      .filter((meta) => !meta.abstract && !meta.embeddable && !meta.virtual && meta.tableName)
      .map((meta) => ({ table: meta.tableName, project: meta.properties.project?.fieldNames?.[0] ?? null }))
      .sort((a, b) => a.table.localeCompare(b.table));
  }

  /** Every table's rows, and the in-place columns of every row. */
  async all(): Promise<Record<string, unknown>> {
    const counts = await this.rows(this.tables.map(({ table }) => `SELECT '${table}' AS t, COUNT(*) AS n FROM "${table}"`).join(' UNION ALL '));
    return {
      counts: Object.fromEntries(counts.map((row) => [row.t, Number(row.n)])),
      jobs: await this.rows('SELECT id, state, cancel_requested, attempts FROM job ORDER BY id'),
      members: await this.rows('SELECT id, role FROM project_member ORDER BY id'),
      tokens: await this.rows('SELECT id, revoked_at FROM api_token ORDER BY id'),
      users: await this.rows('SELECT id, disabled_at, password_hash, admin FROM app_user ORDER BY id'),
    };
  }

  /** What a project owns: its rows in every project-owned table, its jobs' states, its members and their roles. */
  async project(projectId: string): Promise<Record<string, unknown>> {
    const owned = this.tables.filter((t) => t.project !== null);
    const counts = await this.rows(
      owned.map(({ table, project }) => `SELECT '${table}' AS t, COUNT(*) AS n FROM "${table}" WHERE "${project}" = ?`).join(' UNION ALL '),
      owned.map(() => projectId),
    );
    return {
      project: await this.rows('SELECT name, description FROM project WHERE id = ?', [projectId]),
      counts: Object.fromEntries(counts.map((row) => [row.t, Number(row.n)])),
      jobs: await this.rows('SELECT id, state, cancel_requested, attempts, progress_message FROM job WHERE project_id = ? ORDER BY id', [projectId]),
      members: await this.rows('SELECT user_id, role FROM project_member WHERE project_id = ? ORDER BY user_id', [projectId]),
    };
  }

  private async rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const rows = await this.orm.em.getConnection().execute<Record<string, unknown>[]>(sql, params);
    // Dates and counts come back as different types on the two databases; compare them as text.
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value === null ? null : String(value)])));
  }
}
