import { randomUUID } from 'node:crypto';
import { Kind, parse, validate, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { TokenScope } from '../../schema/enums';
import { policyOf } from '../../server/auth/policy';
import { createUser } from '../../server/auth/users';
import { createEventBus } from '../../server/events';
import { buildGraphQLSchema } from '../../server/schema';
import { post, tokenFor } from '../support/auth';
import { TestServer } from '../support/server';

/**
 * Every root field, its access policy, and what each kind of credential gets from it. The table
 * below is checked against the schema both ways, so a field added later without a row fails here
 * instead of going untested.
 */

type RootType = 'Query' | 'Mutation' | 'Subscription';

interface Row {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

const ID = randomUUID();

/** A minimal operation per root field whose variables fit its arguments, so only access decides the answer. */
const TABLE: Record<RootType, Record<string, Row>> = {
  Query: {
    apiTokens: { query: '{ apiTokens { __typename } }' },
    architectures: { query: '{ architectures { __typename } }' },
    artifact: { query: 'query($id: ID!) { artifact(id: $id) { __typename } }', variables: { id: ID } },
    candidate: { query: 'query($id: ID!) { candidate(id: $id) { __typename } }', variables: { id: ID } },
    candidates: { query: '{ candidates { totalCount } }' },
    datasets: { query: '{ datasets { __typename } }' },
    device: { query: 'query($id: ID!) { device(id: $id) { __typename } }', variables: { id: ID } },
    devices: { query: '{ devices { __typename } }' },
    executors: { query: '{ executors { __typename } }' },
    job: { query: 'query($id: ID!) { job(id: $id) { __typename } }', variables: { id: ID } },
    jobs: { query: '{ jobs { __typename } }' },
    latencyTable: { query: 'query($d: ID!, $s: ID!) { latencyTable(deviceId: $d, searchSpaceId: $s) { __typename } }', variables: { d: ID, s: ID } },
    latencyTables: { query: '{ latencyTables { __typename } }' },
    profile: { query: '{ profile(architecture: "mbv2-fmnist") { macs } }' },
    project: { query: 'query($id: ID!) { project(id: $id) { __typename } }', variables: { id: ID } },
    projects: { query: '{ projects { __typename } }' },
    rankingStudy: { query: 'query($id: ID!) { rankingStudy(id: $id) { __typename } }', variables: { id: ID } },
    run: { query: 'query($id: ID!) { run(id: $id) { __typename } }', variables: { id: ID } },
    runHistory: { query: 'query($id: ID!) { runHistory(runId: $id) { __typename } }', variables: { id: ID } },
    searchSpace: { query: 'query($id: ID!) { searchSpace(id: $id) { __typename } }', variables: { id: ID } },
    searchSpaces: { query: '{ searchSpaces { __typename } }' },
    supernet: { query: 'query($id: ID!) { supernet(id: $id) { __typename } }', variables: { id: ID } },
    supernets: { query: '{ supernets { __typename } }' },
    trajectory: { query: 'query($id: ID!) { trajectory(id: $id) { __typename } }', variables: { id: ID } },
    users: { query: '{ users { __typename } }' },
    viewer: { query: '{ viewer { __typename } }' },
    workers: { query: '{ workers { __typename } }' },
  },
  Mutation: {
    buildLatencyTable: {
      query: 'mutation($d: ID!, $s: ID!) { buildLatencyTable(input: { deviceId: $d, searchSpaceId: $s }) { __typename } }',
      variables: { d: ID, s: ID },
    },
    cancelJob: { query: 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', variables: { id: ID } },
    createProject: { query: 'mutation { createProject(input: { name: "policy" }) { __typename } }' },
    createSearchSpace: {
      query: 'mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "s", architecture: "mbv2-fmnist" }) { __typename } }',
      variables: { p: ID },
    },
    createToken: { query: 'mutation { createToken(input: { name: "t", scopes: [READ] }) { __typename } }' },
    createUniformCandidates: {
      query: 'mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.5] }) { __typename } }',
      variables: { s: ID },
    },
    createUser: { query: 'mutation { createUser(input: { name: "policy-user" }) { __typename } }' },
    exportCandidate: { query: 'mutation($c: ID!) { exportCandidate(input: { candidateId: $c }) { __typename } }', variables: { c: ID } },
    importCandidate: {
      query: 'mutation($s: ID!) { importCandidate(input: { searchSpaceId: $s, channels: [8, 8] }) { __typename } }',
      variables: { s: ID },
    },
    measureLatency: { query: 'mutation($d: ID!, $c: ID!) { measureLatency(input: { deviceId: $d, candidateId: $c }) { __typename } }', variables: { d: ID, c: ID } },
    registerDataset: {
      query: 'mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "d", format: SYNTHETIC, synthetic: {} }) { __typename } }',
      variables: { p: ID },
    },
    removeProjectMember: { query: 'mutation($p: ID!) { removeProjectMember(projectId: $p, user: "nobody") }', variables: { p: ID } },
    retrainCandidate: {
      query: 'mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d }) { __typename } }',
      variables: { c: ID, d: ID },
    },
    retryJob: { query: 'mutation($id: ID!) { retryJob(id: $id) { __typename } }', variables: { id: ID } },
    revokeToken: { query: 'mutation($id: ID!) { revokeToken(id: $id) { __typename } }', variables: { id: ID } },
    setPassword: { query: 'mutation { setPassword(password: "a long enough password", currentPassword: "wrong password") { __typename } }' },
    setProjectMember: {
      query: 'mutation($p: ID!) { setProjectMember(input: { projectId: $p, user: "nobody", role: VIEWER }) { __typename } }',
      variables: { p: ID },
    },
    setUserDisabled: { query: 'mutation { setUserDisabled(user: "nobody", disabled: true) { __typename } }' },
    startDemo: { query: 'mutation { startDemo { __typename } }' },
    startSlimming: { query: 'mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1e6] }) { __typename } }', variables: { s: ID } },
    studyRanking: {
      query: 'mutation($s: ID!) { studyRanking(input: { supernetId: $s, seeds: [0], recipe: {} }) { __typename } }',
      variables: { s: ID },
    },
    trainSupernet: {
      query: 'mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "n", searchSpaceId: $s, datasetId: $d }) { __typename } }',
      variables: { s: ID, d: ID },
    },
  },
  Subscription: {
    jobUpdated: { query: 'subscription { jobUpdated { __typename } }' },
    slimmingProgress: { query: 'subscription($id: ID!) { slimmingProgress(trajectoryId: $id) { __typename } }', variables: { id: ID } },
    datasetRegistration: { query: 'subscription($id: ID!) { datasetRegistration(projectId: $id) { __typename } }', variables: { id: ID } },
    trainingProgress: { query: 'subscription($id: ID!) { trainingProgress(runId: $id) { __typename } }', variables: { id: ID } },
  },
};

const ROOT_TYPES: readonly RootType[] = ['Query', 'Mutation', 'Subscription'];

function rootType(schema: GraphQLSchema, name: RootType): GraphQLObjectType {
  const type = { Query: schema.getQueryType(), Mutation: schema.getMutationType(), Subscription: schema.getSubscriptionType() }[name];
  if (!type) throw new Error(`the schema has no ${name} type`);
  return type;
}

/** Every row as [root type, field, row], for it.each. */
const ROWS = ROOT_TYPES.flatMap((type) => Object.entries(TABLE[type]).map(([field, row]) => [type, field, row] as const));
const MUTATIONS = ROWS.filter(([type]) => type === 'Mutation');
const SUBSCRIPTIONS = ROWS.filter(([type]) => type === 'Subscription');

describe('access policy of every root field', () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildGraphQLSchema(createEventBus());
  });

  it('every root field declares a policy (@Access)', () => {
    const undeclared = ROOT_TYPES.flatMap((type) =>
      Object.keys(rootType(schema, type).getFields())
        .filter((field) => policyOf(field) === undefined)
        .map((field) => `${type}.${field}`),
    );
    expect(undeclared).toEqual([]);
  });

  it.each(ROOT_TYPES)('the table has a row for every %s field, and none the schema lacks', (type) => {
    const inSchema = Object.keys(rootType(schema, type).getFields()).sort();
    const inTable = Object.keys(TABLE[type]).sort();
    expect({ missingFromTable: inSchema.filter((f) => !inTable.includes(f)), notInSchema: inTable.filter((f) => !inSchema.includes(f)) }).toEqual({
      missingFromTable: [],
      notInSchema: [],
    });
  });

  it.each(ROWS)("%s.%s: the row's operation is valid and asks for that field alone", (type, field, row) => {
    const document = parse(row.query);
    expect(validate(schema, document)).toEqual([]);
    const [operation] = document.definitions;
    if (operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error('not an operation');
    expect(operation.operation).toBe(type.toLowerCase());
    expect(operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : s.kind))).toEqual([field]);
  });
});

describe('what each credential gets, over HTTP and WebSocket with authentication on', () => {
  let server: TestServer;
  let readToken: string;
  let workerToken: string;

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [], undefined, { auth: true });
    const user = await createUser(server.server.orm, { name: 'reader', password: null, admin: false });
    readToken = await tokenFor(server.server.orm, user.id, [TokenScope.READ]);
    workerToken = await tokenFor(server.server.orm, user.id, [TokenScope.WORKER]);
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** The codes of the answer's errors. */
  const codes = (body: { errors?: { extensions?: { code?: string } }[] }) => (body.errors ?? []).map((e) => e.extensions?.code);

  it.each(ROWS)('%s.%s: without a credential, HTTP 401 and UNAUTHENTICATED', async (_type, _field, row) => {
    const { status, body } = await post(server.url, null, row.query, row.variables);
    expect(status).toBe(401);
    expect(body.data ?? null).toBeNull();
    expect(codes(body)).toEqual(['UNAUTHENTICATED']);
  });

  it.each(ROWS.filter(([type]) => type !== 'Subscription'))('%s.%s: a token with only WORKER is FORBIDDEN', async (_type, field, row) => {
    const { body } = await post(server.url, workerToken, row.query, row.variables);
    expect(body.data?.[field] ?? null).toBeNull();
    expect(codes(body)).toEqual(['FORBIDDEN']);
  });

  it.each(MUTATIONS)('%s.%s: a READ-only token is FORBIDDEN', async (_type, field, row) => {
    const { body } = await post(server.url, readToken, row.query, row.variables);
    expect(body.data?.[field] ?? null).toBeNull();
    expect(codes(body)).toEqual(['FORBIDDEN']);
  });

  it.each(ROWS.filter(([type, field]) => type === 'Query' && policyOf(field) === 'READ'))(
    '%s.%s (policy READ): a READ token passes the gate (any answer but FORBIDDEN)',
    async (_type, _field, row) => {
      const { status, body } = await post(server.url, readToken, row.query, row.variables);
      expect(status).toBe(200);
      expect(codes(body).filter((code) => code === 'FORBIDDEN' || code === 'UNAUTHENTICATED' || code === 'INTERNAL_SERVER_ERROR')).toEqual([]);
    },
  );

  it.each(ROWS.filter(([type, field]) => type === 'Query' && policyOf(field) === 'ADMIN'))(
    '%s.%s (policy ADMIN): a READ token of a user who is not an admin is FORBIDDEN',
    async (_type, _field, row) => {
      expect(codes((await post(server.url, readToken, row.query, row.variables)).body)).toEqual(['FORBIDDEN']);
    },
  );

  /** How a subscription over graphql-ws ends: the socket's close code, or 'open' when it was set up. */
  function subscribe(row: Row, authorization: string | null): Promise<number | 'open'> {
    const client = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: authorization ? { authorization } : {},
    });
    const ended = new Promise<number | 'open'>((resolve) => {
      const fail = (error: unknown) => resolve(typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1);
      client.subscribe({ query: row.query, variables: row.variables }, { next: () => undefined, error: fail, complete: () => undefined });
      // Answered on the same socket after the subscription: by then the server has set it up.
      client.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: fail, complete: () => resolve('open') });
    });
    return ended.finally(() => client.dispose());
  }

  it.each(SUBSCRIPTIONS)('%s.%s over WebSocket: refused (4403) without a credential and with a WORKER token; open with READ', async (_type, _field, row) => {
    expect(await subscribe(row, null)).toBe(4403);
    expect(await subscribe(row, `Bearer ${workerToken}`)).toBe(4403);
    expect(await subscribe(row, `Bearer ${readToken}`)).toBe('open');
  });

  it('GET /artifacts/<id> needs a credential (401)', async () => {
    const res = await fetch(`${server.url}/artifacts/${ID}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('POST /datasets/upload needs a credential (401), before the body is read', async () => {
    const res = await fetch(`${server.url}/datasets/upload?projectId=${ID}&name=d`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-tar' },
      body: new Uint8Array(1024),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('POST /worker/v1/register refuses a READ token (401): the worker protocol needs WORKER', async () => {
    const register = (token: string) =>
      fetch(`${server.url}/worker/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({}),
      });
    const refused = await register(readToken);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    // The same empty body with a WORKER token gets past authentication, to the body's check.
    const admitted = await register(workerToken);
    expect(admitted.status).toBe(400);
    expect(await admitted.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });
});
