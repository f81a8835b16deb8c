import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventBus } from '../../server/events';
import { buildGraphQLSchema, schemaSdl } from '../../server/schema';

describe('schema/schema.graphql', () => {
  it('is the SDL the server builds (regenerate with npm run schema:print)', async () => {
    const built = schemaSdl(await buildGraphQLSchema(createEventBus()));
    const committed = readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    expect(committed).toBe(built);
  });
});
