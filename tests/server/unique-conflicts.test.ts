import { conflictOf } from '../../server/db/unique-keys';
import { Project } from '../../server/entities';
import { DATABASES } from '../support/databases';
import { TestServer, type GraphQLErrorShape, type GraphQLResponse } from '../support/server';

const RACERS = 10;

/** Sends the same mutation RACERS times at once and returns the errors of those that failed. */
async function race(server: TestServer, query: string, variables: Record<string, unknown>): Promise<{ created: number; errors: GraphQLErrorShape[] }> {
  const answers: GraphQLResponse<unknown>[] = await Promise.all(Array.from({ length: RACERS }, () => server.raw(query, variables)));
  return { created: answers.filter((a) => !a.errors).length, errors: answers.flatMap((a) => a.errors ?? []) };
}

describe.each(DATABASES)('racing creates of one name on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start(kind);
  });

  afterAll(async () => {
    await server.stop();
  });

  const expectOneWinner = ({ created, errors }: { created: number; errors: GraphQLErrorShape[] }) => {
    expect(created).toBe(1);
    expect(errors).toHaveLength(RACERS - 1);
    for (const error of errors) expect(error).toMatchObject({ extensions: { code: 'CONFLICT', field: 'input.name' } });
  };

  it('creates one project and answers CONFLICT on input.name to the rest', async () => {
    expectOneWinner(await race(server, `mutation { createProject(input: { name: "contested" }) { id } }`, {}));
  });

  it('creates one dataset and one search space per name in a project', async () => {
    const { createProject } = await server.gql(`mutation { createProject(input: { name: "racing" }) { id } }`);
    const p = createProject.id;
    expectOneWinner(await race(server, `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "d", format: SYNTHETIC, synthetic: {} }) { id } }`, { p }));
    expectOneWinner(await race(server, `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "s", architecture: "mbv2-fmnist" }) { id } }`, { p }));
  });

  it("reads the field from the database's own refusal, which a lost race ends in", async () => {
    await server.gql(`mutation { createProject(input: { name: "taken" }) { id } }`);
    const em = server.server.orm.em.fork();
    em.create(Project, { name: 'taken', description: null });
    const refusal = await em.flush().then(() => null, (error: unknown) => error);
    expect(conflictOf(refusal)?.extensions).toEqual({ code: 'CONFLICT', field: 'input.name' });
  });
});

describe.each(DATABASES)('an internal error on %s', (kind) => {
  let server: TestServer;
  const logged: string[] = [];

  beforeAll(async () => {
    server = await TestServer.start(kind, [], undefined, {}, { info: () => undefined, warn: (message) => void logged.push(message) });
    // A table the queries expect is gone: every query of it fails in the driver, with its SQL in the message.
    await server.server.orm.em.getConnection().execute('alter table project rename to project_gone');
  });

  afterAll(async () => {
    await server.stop();
  });

  it('answers a generic message over HTTP and logs the error', async () => {
    const error = await server.gqlError(`{ projects { id } }`);
    expect(error).toMatchObject({ message: 'internal server error; the server log has the details', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(error)).not.toMatch(/select|project_gone|from/i);
    expect(logged.some((line) => line.includes('select'))).toBe(true);
  });

  it('answers a generic message over WebSocket', async () => {
    const subscription = server.subscribe(`{ projects { id } }`);
    const failure = await subscription.take(1).catch((error: Error) => error.message);
    subscription.close();
    expect(failure).toContain('internal server error; the server log has the details');
    expect(failure).not.toMatch(/select/i);
  });
});
