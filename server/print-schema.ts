/** Rewrites schema/schema.graphql from the type-graphql classes: `npm run schema:print`. */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createEventBus } from './events';
import { buildGraphQLSchema, schemaSdl } from './schema';

buildGraphQLSchema(createEventBus())
  .then((schema) => writeFileSync(resolve('schema', 'schema.graphql'), schemaSdl(schema)))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
