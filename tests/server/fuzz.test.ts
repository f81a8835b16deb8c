import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  buildSchema,
  getNullableType,
  GraphQLInputObjectType,
  GraphQLList,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { ARCHITECTURE_NAMES } from '../../autoslim';
import { ProjectRole, TokenScope } from '../../schema/enums';
import { addMember, createUser } from '../../server/auth/users';
import { loadLimits } from '../../server/config';
import { ApiToken, Device } from '../../server/entities';
import { createEventBus } from '../../server/events';
import { buildGraphQLSchema } from '../../server/schema';
import { post, tokenFor, type Answer } from '../support/auth';
import type { DatabaseKind } from '../support/databases';
import { JOB_FIELDS, seedProject, type GraphQLClient } from '../support/fixtures';
import { RowCounts } from '../support/row-counts';
import { callOf, requestBody, type Call, type Pools } from '../support/schema-arbitraries';
import { TestServer } from '../support/server';

/**
 * Every mutation, fed arguments generated from its argument types, over real HTTP with
 * authentication on, as a user who is EDITOR of project A, OWNER of project C, and nothing of
 * project B. Whatever it sends, the server answers with coded errors (never a 500 or an internal
 * error), names the field of every input error, writes nothing when it refuses, never touches B,
 * and answers an id of B exactly as it answers an id that does not exist.
 */

/**
 * Fixed, so a run is repeatable. FUZZ_SEED and FUZZ_RUNS explore further (FUZZ_RUNS multiplies the
 * runs); FUZZ_LOG=1 prints every request and its answer, to see what the generators reach.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x51_1a_b0);
/** Runs per mutation: sized so the file stays within about two minutes on two cores. */
const RUNS: Record<DatabaseKind, number> = { sqlite: 150, postgresql: 40 };
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);

/** Codes of errors about an input, which must say which field. */
const FIELD_CODES = ['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'FAILED_PRECONDITION'];

/**
 * The mutations of the committed contract (schema/schema.graphql), known before the tests run so
 * each gets a test of its own; the first test checks the server's schema has exactly these.
 */
const MUTATION_NAMES = Object.keys(buildSchema(readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8')).getMutationType()!.getFields());

interface Seeded {
  projectId: string;
  /** Names of the search space's channel units. */
  units: string[];
  /** Channel lists of the search space: its widest, and its candidates'. */
  channels: number[][];
  datasetId: string;
  spaceId: string;
  candidateIds: string[];
  supernetId: string;
  runId: string;
  queuedJobId: string;
  cancelledJobId: string;
}

/** A project as an admin makes it over GraphQL: dataset, search space, candidates, a queued and a cancelled supernet job. */
async function seed(admin: GraphQLClient, name: string): Promise<Seeded> {
  const { projectId, datasetId, space } = await seedProject(admin, name);
  const { createUniformCandidates } = await admin.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.35, 0.5, 1.0] }) { id channels } }`, {
    s: space.id,
  });
  const train = (n: string) =>
    admin.gql(`mutation($s: ID!, $d: ID!, $n: String!) { trainSupernet(input: { name: $n, searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { ${JOB_FIELDS} payload } }`, {
      s: space.id,
      d: datasetId,
      n,
    });
  const { trainSupernet: queued } = await train('queued');
  const { trainSupernet: cancelled } = await train('cancelled');
  await admin.gql(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: cancelled.id });
  return {
    projectId,
    units: space.units.map((u: { name: string }) => u.name),
    channels: [space.maxChannels, ...createUniformCandidates.map((c: { channels: number[] }) => c.channels)],
    datasetId,
    spaceId: space.id,
    candidateIds: createUniformCandidates.map((c: { id: string }) => c.id),
    supernetId: queued.payload.supernetId,
    runId: queued.payload.runId,
    queuedJobId: queued.id,
    cancelledJobId: cancelled.id,
  };
}

/** A well-formed id of nothing. */
const SOME = '6f1c2a4e-3b5d-4c7e-9f80-1a2b3c4d5e6f';

const idsOf = (s: Seeded) => [s.projectId, s.datasetId, s.spaceId, ...s.candidateIds, s.supernetId, s.runId, s.queuedJobId, s.cancelledJobId];

/** Whether `path` (`input.recipe.epochs`, `input.widths[2]`, `id`) names an argument of `field`, or a field or element within one. */
function isInputPath(field: GraphQLField<unknown, unknown>, path: string): boolean {
  const [argument, ...steps] = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let type: GraphQLInputType | undefined = field.args.find((arg) => arg.name === argument)?.type;
  for (const step of steps) {
    let nullable = type && getNullableType(type);
    if (step.startsWith('[')) {
      type = nullable instanceof GraphQLList ? (nullable.ofType as GraphQLInputType) : undefined;
      continue;
    }
    // A lone value where a list goes is coerced to a list of it, and graphql-js's path then has no index.
    if (nullable instanceof GraphQLList) nullable = getNullableType(nullable.ofType as GraphQLInputType);
    type = nullable instanceof GraphQLInputObjectType ? nullable.getFields()[step]?.type : undefined;
  }
  return type !== undefined;
}

/** What an answer says, for comparing two answers: status, whether the field has data, and each error. */
function outline(answer: Answer, field: string) {
  return {
    status: answer.status,
    hasData: (answer.body.data as Record<string, unknown> | null | undefined)?.[field] != null,
    errors: (answer.body.errors ?? []).map((e) => ({ code: e.extensions?.code, field: e.extensions?.field, message: e.message })),
  };
}

describe.each(['sqlite', 'postgresql'] as const)('fuzzing every mutation on %s', (kind) => {
  let server: TestServer;
  let schema: GraphQLSchema;
  let counts: RowCounts;
  let token: string;
  let pools: Pools;
  /** Ids of things the fuzzing user cannot see (B's entities, other users' tokens). */
  let hidden: string[];
  let projectB: string;
  let initialB: Record<string, unknown>;
  let a: Seeded;
  let b: Seeded;

  beforeAll(async () => {
    schema = await buildGraphQLSchema(createEventBus());
    // The rate limiter would refuse the fuzzer's burst as RATE_LIMITED; it is not what is under test here.
    server = await TestServer.start(kind, [], undefined, {
      auth: true,
      limits: { ...loadLimits({}), mutationsPerSecond: 100_000, mutationBurst: 100_000 },
    });
    const { orm } = server.server;
    // No passwords: scrypt would make every user creation cost a tenth of a second.
    const admin = await createUser(orm, { name: 'admin', password: null, admin: true });
    const adminToken = await tokenFor(orm, admin.id, [TokenScope.ADMIN], 'admin');
    const adminClient: GraphQLClient = {
      async gql(query, variables = {}) {
        const { body } = await post(server.url, adminToken, query, variables);
        if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
        return body.data as never;
      },
    };
    a = await seed(adminClient, 'project-a');
    b = await seed(adminClient, 'project-b');
    projectB = b.projectId;

    const fuzzer = await createUser(orm, { name: 'fuzzer', password: null, admin: false });
    await addMember(orm, a.projectId, fuzzer.id, ProjectRole.EDITOR);
    token = await tokenFor(orm, fuzzer.id, [TokenScope.WRITE], 'main');
    // A second token of its own the fuzzer may revoke (its main one is not among the ids it tries).
    await tokenFor(orm, fuzzer.id, [TokenScope.READ], 'spare');
    const bob = await createUser(orm, { name: 'bob', password: null, admin: false });
    await addMember(orm, b.projectId, bob.id, ProjectRole.OWNER);
    await tokenFor(orm, bob.id, [TokenScope.WRITE], 'bob');
    const { body } = await post<{ createProject: { id: string } }>(server.url, token, `mutation { createProject(input: { name: "project-c" }) { id } }`);
    const projectC = body.data!.createProject.id;

    const em = orm.em.fork();
    // Devices are registered by latency probes; one made directly lets the latency mutations get past the device.
    const device = em.create(Device, {
      fingerprint: 'f'.repeat(64),
      host: 'fuzz',
      cpuModel: 'none',
      cores: 1,
      threads: 1,
      runtime: 'onnxruntime',
      provider: 'cpu',
      os: 'linux',
      versions: {},
    });
    await em.flush();
    const tokens = await em.find(ApiToken, {}, { populate: ['user'] });
    const spare = tokens.find((t) => t.name === 'spare')!.id;
    const othersTokens = tokens.filter((t) => t.user.name !== 'fuzzer').map((t) => t.id);

    hidden = [...idsOf(b), ...othersTokens];
    // Per field name: the caller's entity of the field's kind, and another project's.
    const hints: Record<string, readonly unknown[]> = {
      projectId: [a.projectId, projectC, b.projectId],
      datasetId: [a.datasetId, b.datasetId],
      searchSpaceId: [a.spaceId, b.spaceId],
      candidateId: [...a.candidateIds, ...b.candidateIds],
      supernetId: [a.supernetId, b.supernetId],
      runId: [a.runId, b.runId],
      deviceId: [device.id],
      id: [a.queuedJobId, a.cancelledJobId, b.queuedJobId, b.cancelledJobId, spare, ...othersTokens],
      // Fresh names, and names A already uses (a CONFLICT found inside the transaction).
      name: ['fuzzed', 'fuzzed-2', 'project-a', 'synthetic', 'mbv2', 'queued', 'main'],
      architecture: ARCHITECTURE_NAMES,
      unit: a.units,
      // Lists of the space, and one with a unit off by one (not a multiple of the divisor).
      channels: [...a.channels, a.channels[0]!.map((c, i) => (i === 1 ? c - 1 : c))],
      schedule: ['linear', 'cosine', 'step'],
      distillation: ['soft', 'hard+kl', 'off'],
      user: ['fuzzer', 'bob', 'admin', 'nobody'],
      path: [tmpdir(), '/usr/share/datasets', `${tmpdir()}/../etc`, 'relative/path'],
      password: ['a long enough password', 'short'],
      currentPassword: ['a long enough password'],
    };
    pools = {
      hints: (field) => hints[field] ?? [],
      ids: [...idsOf(a), projectC, device.id, spare, ...hidden],
      strings: [
        ...ARCHITECTURE_NAMES,
        'linear', 'cosine', 'step', 'soft', 'hard+kl', 'off',
        'fuzzer', 'bob', 'admin', 'nobody', 'project-a', 'project-b', 'project-c', 'synthetic', 'mbv2', 'queued',
        tmpdir(), '/', '/etc', '/usr/share/datasets', `${tmpdir()}/../etc`, '../../../etc/passwd', 'uploads', 'relative/path',
        'a long enough password', 'x'.repeat(200), 'x'.repeat(201), 'y'.repeat(1024), 'y'.repeat(1025),
      ],
    };
    counts = new RowCounts(orm);
    initialB = await counts.project(projectB);
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** Sends a call as the fuzzing user; with FUZZ_LOG, the request before (a hang shows which) and the answer after. */
  const send = async (call: Call) => {
    const body = requestBody(call.query, call.variables);
    const log = process.env.FUZZ_LOG ? (line: string) => process.stderr.write(`${line}\n`) : null;
    log?.(`→ ${call.field} ${body.slice(0, 600)}`);
    const started = performance.now();
    const answer = await post(server.url, token, call.query, {}, body);
    const codes = (answer.body.errors ?? []).map((e) => `${e.extensions?.code}@${e.extensions?.field}`).join(',') || 'ok';
    log?.(`${call.field} ${Math.round(performance.now() - started)}ms ${answer.status} ${codes.slice(0, 200)}`);
    return answer;
  };

  /** The same call with every hidden id replaced by a fresh one that names nothing. */
  function withMissingIds(call: Call): { call: Call; restore: (text: string) => string } {
    const fresh = new Map<string, string>();
    for (const id of hidden) {
      fresh.set(id, randomUUID());
      fresh.set(id.toUpperCase(), randomUUID().toUpperCase());
    }
    const replace = (value: unknown): unknown => {
      if (typeof value === 'string') return fresh.get(value) ?? value;
      if (Array.isArray(value)) return value.map(replace);
      if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
      }
      return value;
    };
    const back = [...fresh].map(([original, missing]) => [missing, original] as const);
    return {
      call: { ...call, variables: replace(call.variables) as Record<string, unknown> },
      restore: (text) => back.reduce((t, [missing, original]) => t.split(missing).join(original), text),
    };
  }

  function mentionsHidden(variables: unknown): boolean {
    if (typeof variables === 'string') return hidden.includes(variables.toLowerCase());
    if (Array.isArray(variables)) return variables.some(mentionsHidden);
    if (variables !== null && typeof variables === 'object') return Object.values(variables).some(mentionsHidden);
    return false;
  }

  /** The properties every answer to `call` must have. */
  async function check(call: Call): Promise<void> {
    const mutation = schema.getMutationType()!.getFields()[call.field]!;
    const before = await counts.all();
    const answer = await send(call);
    const { status, body } = answer;
    expect(status).toBeLessThan(500);
    const errors = body.errors ?? [];
    for (const error of errors) {
      expect(error.extensions?.code).toEqual(expect.any(String));
      expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      if (FIELD_CODES.includes(error.extensions!.code!)) {
        // The field named must be one the request has: an argument, or a field or element in one.
        const named = error.extensions?.field;
        expect({ error, namesAnInputField: typeof named === 'string' && isInputPath(mutation, named) }).toEqual({ error, namesAnInputField: true });
      }
    }
    const refused = errors.length > 0 || (body.data as Record<string, unknown> | undefined)?.[call.field] == null;
    if (refused) {
      expect(errors.length).toBeGreaterThan(0);
      expect(await counts.all()).toEqual(before);
    }
    expect(await counts.project(projectB)).toEqual(initialB);
    if (mentionsHidden(call.variables)) {
      // An id of B must answer as an id that names nothing: same status, codes, fields and words.
      const twin = withMissingIds(call);
      const missing = await send(twin.call);
      expect(JSON.parse(twin.restore(JSON.stringify(outline(missing, call.field))))).toEqual(outline(answer, call.field));
    }
  }

  it('fuzzes every mutation the server has', () => {
    expect(Object.keys(schema.getMutationType()!.getFields()).sort()).toEqual([...MUTATION_NAMES].sort());
  });

  it.each(MUTATION_NAMES)('%s: every generated input is answered with coded errors, or done; refused ones write nothing', async (name) => {
    const field = schema.getMutationType()!.getFields()[name];
    if (!field) throw new Error(`the schema has no mutation ${name}`);
    await fc.assert(
      fc.asyncProperty(callOf('mutation', field, pools), (call) => check(call)),
      { seed: SEED + MUTATION_NAMES.indexOf(name), numRuns: Math.round(RUNS[kind] * SCALE) },
    );
  });

  /**
   * The shrunk counterexamples of the bugs this fuzzer found, kept as they were found. Each is
   * checked by the same properties, and for the answer it should have had.
   */
  describe('regressions the fuzzer found', () => {
    const MUTATION = (field: string, type: string) => `mutation($input: ${type}!) { ${field}(input: $input) { __typename } }`;
    const call = (field: string, query: string, variables: Record<string, unknown>): Call => ({ field, query, variables });
    const errorsOf = async (c: Call) => (await send(c)).body.errors?.map((e) => ({ code: e.extensions?.code, field: e.extensions?.field, message: e.message }));

    it.each([
      ['a null in a required input field', 'buildLatencyTable', 'BuildLatencyTableInput', { deviceId: SOME, searchSpaceId: SOME, batchSize: null }, 'input.batchSize'],
      ['an object for an ID', 'cancelJob', null, { id: {} }, 'id'],
      ['a null input', 'createProject', 'CreateProjectInput', null, 'input'],
      ['a required field left out of a list element given alone', 'createSearchSpace', 'CreateSearchSpaceInput', { projectId: SOME, name: 'n', architecture: 'mbv2-fmnist', units: { groups: 0 } }, 'input.units.unit'],
      ['an unknown field (the object it was sent in)', 'createProject', 'CreateProjectInput', { name: 'n', bogus: 1 }, 'input'],
      ['a string for an Int in a list', 'importCandidate', 'ImportCandidateInput', { searchSpaceId: SOME, channels: [8, 'NaN'] }, 'input.channels[1]'],
    ])('a value of the wrong type names its field (BAD_USER_INPUT): %s', async (_what, field, type, input, named) => {
      const query = type ? MUTATION(field, type) : `mutation($id: ID!) { ${field}(id: $id) { __typename } }`;
      const c = call(field, query, type ? { input } : (input as Record<string, unknown>));
      await check(c);
      expect(await errorsOf(c)).toEqual([{ code: 'BAD_USER_INPUT', field: named, message: expect.any(String) }]);
    });

    it('more than 50 invalid values in the variables are BAD_REQUEST (HTTP 400), not an internal error', async () => {
      const c = call('createUniformCandidates', MUTATION('createUniformCandidates', 'CreateUniformCandidatesInput'), {
        input: { searchSpaceId: '', widths: Array.from({ length: 51 }, () => null) },
      });
      await check(c);
      const { status, body } = await send(c);
      expect(status).toBe(400);
      expect(body.errors?.at(-1)?.extensions?.code).toBe('BAD_REQUEST');
    });

    it("a non-admin's lookup inside a mutation's transaction answers (it deadlocked SQLite), and the server goes on answering", async () => {
      const c = call('exportCandidate', MUTATION('exportCandidate', 'ExportCandidateInput'), {
        input: { candidateId: b.candidateIds[2], supernetId: `${SOME} `, datasetId: 'c7bed384-9cc3-4b7b-9c61-897600000005', calibrationSeed: 1937178004 },
      });
      const answered = await Promise.race([errorsOf(c), new Promise((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
      expect(answered).toEqual([{ code: 'NOT_FOUND', field: 'input.candidateId', message: expect.stringContaining('no candidate with id') }]);
      await check(c);
      // The caller's own project, through the same kind of transaction: done.
      const uniform = call('createUniformCandidates', MUTATION('createUniformCandidates', 'CreateUniformCandidatesInput'), { input: { searchSpaceId: a.spaceId, widths: [0.75] } });
      expect((await send(uniform)).body).toEqual({ data: { createUniformCandidates: [{ __typename: 'Candidate' }] } });
    });

    it('an autoslim error about inputSize names input.inputSize (it named "inputSize")', async () => {
      const c = call('createSearchSpace', MUTATION('createSearchSpace', 'CreateSearchSpaceInput'), {
        input: { projectId: a.projectId, name: '!', architecture: 'mobilenet-v1', inputSize: 1, units: [] },
      });
      await check(c);
      expect(await errorsOf(c)).toEqual([{ code: 'BAD_USER_INPUT', field: 'input.inputSize', message: expect.stringMatching(/^input\.inputSize: /) }]);
    });

    it.each([
      ['a unit the architecture lacks', 'resnet-50', () => [{ unit: 'blocks.1.out' }], 'input.units[0].unit', /has no unit named 'blocks\.1\.out'/],
      ["a minimum above the unit's widest", 'mbv2-fmnist', () => [{ unit: a.units[0] }, { unit: a.units[1], min: 100_000 }], 'input.units[1].min', /above the unit's maximum/],
      ['a unit named "constructor" (it answered "overridden twice")', 'mbv2-fmnist', () => [{ unit: 'constructor' }], 'input.units[0].unit', /has no unit named 'constructor'/],
      ['a unit named "__proto__" (it answered "overridden twice")', 'mbv2-fmnist', () => [{ unit: '__proto__' }], 'input.units[0].unit', /has no unit named '__proto__'/],
    ])('a unit override error names the override (it named unitOptions.perUnit...): %s', async (_what, architecture, units, named, message) => {
      const c = call('createSearchSpace', MUTATION('createSearchSpace', 'CreateSearchSpaceInput'), {
        input: { projectId: a.projectId, name: 'fuzzed-units', architecture, groups: 12, units: units() },
      });
      await check(c);
      expect(await errorsOf(c)).toEqual([{ code: 'BAD_USER_INPUT', field: named, message: expect.stringMatching(message) }]);
    });
  });
});
