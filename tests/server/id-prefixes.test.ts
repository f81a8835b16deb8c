import { ProjectRole, TokenScope } from '../../schema/enums';
import { addMember } from '../../server/auth/users';
import { Project } from '../../server/entities';
import { loadLimits } from '../../server/config';
import { userWithToken, type TokenClient } from '../support/auth';
import { DATABASES } from '../support/databases';
import { seedProject, trainSupernet } from '../support/fixtures';
import { TestServer } from '../support/server';

/** Two projects whose ids share their first 8 hex digits, as two pasted prefixes of that length would. */
const TWINS = ['abcdef01-0000-4000-8000-000000000001', 'abcdef01-0000-4000-8000-000000000002'];

describe.each(DATABASES)('ids given as unique prefixes on %s', (kind) => {
  let server: TestServer;
  let admin: TokenClient;
  let alice: TokenClient;
  let bob: TokenClient;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  let job: Awaited<ReturnType<typeof trainSupernet>>;
  let candidate: { id: string; configHash: string };

  beforeAll(async () => {
    server = await TestServer.start(kind, [], undefined, { auth: true, limits: { ...loadLimits({}), mutationBurst: 10_000 } });
    admin = (await userWithToken(server, 'root', [TokenScope.ADMIN], { admin: true })).client;
    alice = (await userWithToken(server, 'alice', [TokenScope.WRITE])).client;
    const bobUser = await userWithToken(server, 'bob', [TokenScope.WRITE]);
    bob = bobUser.client;
    seeded = await seedProject(alice, 'prefixes');
    job = await trainSupernet(alice, seeded.space.id, seeded.datasetId);
    ({ importCandidate: candidate } = await alice.gql(
      `mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id configHash } }`,
      { s: seeded.space.id.slice(0, 8), c: seeded.space.maxChannels },
    ));
    const em = server.server.orm.em.fork();
    for (const [i, id] of TWINS.entries()) em.create(Project, { id, name: `twin-${i}`, description: null });
    await em.flush();
    await addMember(server.server.orm, TWINS[1]!, bobUser.id, ProjectRole.VIEWER);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('answers queries of every kind by a prefix, with or without its dashes', async () => {
    const { projectId, datasetId } = seeded;
    const found = await alice.gql(
      `query($p: ID!, $pd: ID!, $s: ID!, $r: ID!, $j: ID!, $c: ID!, $h: ID!, $d: ID!) {
        project(id: $p) { id } dashed: project(id: $pd) { id } supernet(id: $s) { id } run(id: $r) { id } job(id: $j) { id }
        byId: candidate(id: $c) { id } byHash: candidate(id: $h) { id }
        datasets(projectId: $p) { id } supernets(filter: { datasetId: $d }) { id } }`,
      {
        p: projectId.slice(0, 6),
        pd: projectId.slice(0, 13),
        s: job.payload.supernetId.slice(0, 8),
        r: job.payload.runId.slice(0, 8).toUpperCase(),
        j: job.id.slice(0, 10),
        c: candidate.id.slice(0, 8),
        h: candidate.configHash.slice(0, 12),
        d: datasetId.slice(0, 8),
      },
    );
    expect(found).toEqual({
      project: { id: projectId },
      dashed: { id: projectId },
      supernet: { id: job.payload.supernetId },
      run: { id: job.payload.runId },
      job: { id: job.id },
      byId: { id: candidate.id },
      byHash: { id: candidate.id },
      datasets: [{ id: datasetId }],
      supernets: [{ id: job.payload.supernetId }],
    });
  });

  it('filters lists by a prefix as by the whole id', async () => {
    const spaceId: string = seeded.space.id;
    const byPrefix = await alice.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s }) { totalCount } latencyTables(searchSpaceId: $s) { version } }`, {
      s: spaceId.slice(0, 8),
    });
    const byId = await alice.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s }) { totalCount } latencyTables(searchSpaceId: $s) { version } }`, { s: spaceId });
    expect(byPrefix).toEqual(byId);
    expect(byPrefix.candidates.totalCount).toBe(1);
  });

  it('takes prefixes in mutation inputs and stores whole ids', async () => {
    const { retrainCandidate: jobs } = await alice.gql(
      `mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, recipe: { epochs: 1 } }) { id payload } }`,
      { c: candidate.configHash.slice(0, 8), d: seeded.datasetId.slice(0, 8) },
    );
    expect(jobs[0].payload).toMatchObject({ candidateId: candidate.id });
    const { run } = await alice.gql(`query($r: ID!) { run(id: $r) { id datasetId } }`, { r: jobs[0].payload.runId.slice(0, 8) });
    expect(run).toEqual({ id: jobs[0].payload.runId, datasetId: seeded.datasetId });
  });

  it('refuses an ambiguous prefix, naming the field and how many ids it matches', async () => {
    const error = await admin.error(`query { project(id: "abcdef01") { id } }`);
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
    expect(error.message).toContain('"abcdef01" is the start of 2 project ids; give more of it');
  });

  it('counts only what the caller may read, and answers a prefix of hidden ids as an unknown id', async () => {
    expect(await bob.gql(`query { project(id: "abcdef01") { id } }`)).toEqual({ project: { id: TWINS[1] } });
    const hidden = await bob.error(`query($s: ID!) { supernet(id: $s) { id } }`, { s: job.payload.supernetId.slice(0, 8) });
    const unknown = await bob.error(`query { supernet(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(hidden.extensions).toEqual(unknown.extensions);
    expect(hidden.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    expect(await alice.error(`query { project(id: "abcdef01") { id } }`)).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'id' } });
    expect(await alice.gql(`query { candidates(filter: { projectId: "abcdef01" }) { totalCount } }`)).toEqual({ candidates: { totalCount: 0 } });
    const otherProject = { p: seeded.projectId, q: seeded.projectId.slice(0, 8) };
    expect(await bob.gql(`query($p: ID!, $q: ID!) { whole: supernets(filter: { projectId: $p }) { id } prefix: supernets(filter: { projectId: $q }) { id } }`, otherProject)).toEqual({
      whole: [],
      prefix: [],
    });
  });

  it('refuses a prefix too short or not hex, naming the rule', async () => {
    for (const given of ['abc12', 'not-an-id-at-all']) {
      const error = await alice.error(`query($c: ID!) { candidate(id: $c) { id } }`, { c: given });
      expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
      expect(error.message).toContain(`must be an id: a UUID, or a unique prefix of an id or of a config hash of at least 6 hex digits, got "${given}"`);
    }
  });

  it('refuses a config hash prefix that two candidates share', async () => {
    const { createSearchSpace: twin } = await alice.gql(
      `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "mbv2-twin", architecture: "mbv2-fmnist", maxWidth: 1.0 }) { id } }`,
      { p: seeded.projectId.slice(0, 8) },
    );
    await alice.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, { s: twin.id, c: seeded.space.maxChannels });
    const error = await alice.error(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d }) { id } }`, {
      c: candidate.configHash.slice(0, 8),
      d: seeded.datasetId,
    });
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.candidateId' } });
    expect(error.message).toContain('is the start of 2 candidate ids or config hashes');
  });
});
