import type { Orm } from '../../server/db/orm';
import { openDatabase } from '../../server/db/orm';
import { DATABASES, scratchDatabase, type DatabaseKind } from '../support/databases';

describe.each(DATABASES)('migrations on %s', (kind) => {
  it('bring an empty database to the schema the entities describe, once', async () => {
    const scratch = await scratchDatabase(kind);
    const { orm, applied } = await openDatabase(scratch.target);
    try {
      expect(applied.length).toBeGreaterThan(0);
      await expectSchemaMatchesEntities(orm, kind);
      expect(await orm.getMigrator().up()).toEqual([]);
    } finally {
      await orm.close(true);
      await scratch.drop();
    }
  });
});

async function expectSchemaMatchesEntities(orm: Orm, kind: DatabaseKind): Promise<void> {
  if (kind === 'postgresql') {
    expect(await orm.getSchemaGenerator().getUpdateSchemaSQL()).toBe('');
    return;
  }
  // MikroORM's SQLite comparator always proposes to rebuild tables with check constraints, so
  // here the tables and their columns are compared directly.
  const connection = orm.em.getConnection();
  for (const meta of Object.values(orm.getMetadata().getAll()).filter((m) => !m.abstract && m.tableName)) {
    const columns = await connection.execute<{ name: string }[]>(`pragma table_info(\`${meta.tableName}\`)`);
    const expected = meta.props.flatMap((p) => p.fieldNames ?? []);
    expect({ table: meta.tableName, columns: columns.map((c) => c.name).sort() }).toEqual({ table: meta.tableName, columns: [...expected].sort() });
  }
}
