import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { ArtifactKind, ProjectRole, TokenScope } from '../../schema/enums';
import { Artifact, ApiToken } from '../../server/entities';
import { TokenClient, userWithToken } from '../support/auth';
import { DATABASES } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { TestServer } from '../support/server';
import { loadLimits } from '../../server/config';

const PROJECT = 'query($id: ID!) { project(id: $id) { id name myRole } }';
const CANCEL = 'mutation($id: ID!) { cancelJob(id: $id) { id state } }';
const TRAIN = `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "s", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id projectId } }`;

// Bodies of the routes under test, whose shapes the assertions check.
const body = (res: Response): Promise<any> => res.json();

/** Resolves with the close code when the server ends the socket, or with 'open' once an operation ran. */
function connectOutcome(client: Client): Promise<number | 'open'> {
  return new Promise((resolve) => {
    client.on('closed', (event) => resolve((event as { code: number }).code));
    client.subscribe({ query: '{ __typename }' }, { next: () => resolve('open'), error: () => undefined, complete: () => undefined });
  });
}

describe.each(DATABASES)('authentication and project scoping on %s', (kind) => {
  const logged: string[] = [];
  let server: TestServer;
  let admin: TokenClient;
  let alice: TokenClient;
  let bob: TokenClient;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  let jobId: string;

  beforeAll(async () => {
    const log = { info: (m: string) => void logged.push(m), warn: (m: string) => void logged.push(m) };
    server = await TestServer.start(kind, [], undefined, { auth: true, limits: { ...loadLimits({}), mutationBurst: 10_000 } }, log);
    admin = (await userWithToken(server, 'root', [TokenScope.ADMIN], { admin: true })).client;
    alice = (await userWithToken(server, 'alice', [TokenScope.WRITE], { password: 'alice password 1' })).client;
    bob = (await userWithToken(server, 'bob', [TokenScope.WRITE])).client;
    seeded = await seedProject(alice, 'alice-project');
    ({ trainSupernet: { id: jobId } } = await alice.gql(TRAIN, { s: seeded.space.id, d: seeded.datasetId }));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('answers a request without a credential, or with a wrong one, 401 UNAUTHENTICATED', async () => {
    const bare = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ projects { id } }"}' });
    expect(bare.status).toBe(401);
    expect((await body(bare)).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const forged = await new TokenClient(server.url, `slm_${'A'.repeat(43)}`).error('{ projects { id } }');
    expect(forged).toMatchObject({ status: 401, extensions: { code: 'UNAUTHENTICATED' } });
    expect((await fetch(`${server.url}/artifacts/${randomUUID()}`)).status).toBe(401);
  });

  it('makes the creator of a project its owner, and shows a project only to its members and admins', async () => {
    expect(await alice.gql(PROJECT, { id: seeded.projectId })).toEqual({ project: { id: seeded.projectId, name: 'alice-project', myRole: 'OWNER' } });
    expect((await bob.gql('{ projects { id } }')).projects).toEqual([]);
    expect((await admin.gql('{ projects { id } }')).projects).toEqual([{ id: seeded.projectId }]);
    expect((await bob.gql('{ jobs { id } candidates { totalCount } supernets { id } datasets { id } searchSpaces { id } }'))).toEqual({
      jobs: [],
      candidates: { totalCount: 0 },
      supernets: [],
      datasets: [],
      searchSpaces: [],
    });
  });

  it("answers another project's id exactly as a missing id, for queries, mutations and downloads", async () => {
    const missing = randomUUID();
    const hidden = await bob.error(PROJECT, { id: seeded.projectId });
    const absent = await bob.error(PROJECT, { id: missing });
    expect(hidden.extensions).toEqual(absent.extensions);
    expect(hidden.message.replace(seeded.projectId, 'ID')).toBe(absent.message.replace(missing, 'ID'));
    expect(await bob.error(CANCEL, { id: jobId })).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'id' } });
    expect(await bob.error(TRAIN, { s: seeded.space.id, d: seeded.datasetId })).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.searchSpaceId' } });
    expect((await alice.gql('query($id: ID!) { job(id: $id) { state } }', { id: jobId })).job.state).toBe('QUEUED');
  });

  it("keeps artifacts to their project, and server paths to admins", async () => {
    const em = server.server.orm.em.fork();
    const artifact = em.create(Artifact, { project: seeded.projectId, kind: ArtifactKind.CHECKPOINT, name: 'c.safetensors', uri: 'file:///srv/secret/c', bytes: 1, sha256: 'a'.repeat(64) });
    await em.flush();
    const query = 'query($id: ID!) { artifact(id: $id) { name uri downloadUrl } }';
    expect((await alice.gql(query, { id: artifact.id })).artifact).toEqual({ name: 'c.safetensors', uri: null, downloadUrl: `/artifacts/${artifact.id}` });
    expect((await admin.gql(query, { id: artifact.id })).artifact.uri).toBe('file:///srv/secret/c');
    expect(await bob.error(query, { id: artifact.id })).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const download = (client: TokenClient) => fetch(`${server.url}/artifacts/${artifact.id}`, { headers: { authorization: `Bearer ${client.token}` } });
    const hidden = await download(bob);
    expect(hidden.status).toBe(404);
    expect((await body(hidden)).errors[0].extensions).toEqual({ code: 'NOT_FOUND', field: 'id' });
    // Alice may download it; this one has no bytes behind it, which is the server's problem, not a refusal.
    expect((await download(alice)).status).toBe(500);
  });

  it('lets a viewer read but not change, and an editor run work but not manage members', async () => {
    const { createProject } = await alice.gql('mutation { createProject(input: { name: "shared" }) { id } }');
    await alice.gql('mutation($p: ID!) { setProjectMember(input: { projectId: $p, user: "bob", role: VIEWER }) { role user { name } } }', { p: seeded.projectId });
    expect((await bob.gql(PROJECT, { id: seeded.projectId })).project.myRole).toBe('VIEWER');
    expect(await bob.error(CANCEL, { id: jobId })).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await bob.error('mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "x", format: SYNTHETIC, synthetic: {} }) { id } }', { p: seeded.projectId })).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });

    await alice.gql('mutation($p: ID!) { setProjectMember(input: { projectId: $p, user: "bob", role: EDITOR }) { role } }', { p: seeded.projectId });
    const { trainSupernet } = await bob.gql(TRAIN, { s: seeded.space.id, d: seeded.datasetId });
    expect(trainSupernet.projectId).toBe(seeded.projectId);
    expect(await bob.error('mutation($p: ID!) { setProjectMember(input: { projectId: $p, user: "bob", role: OWNER }) { role } }', { p: seeded.projectId })).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    expect(await alice.error('mutation($p: ID!) { removeProjectMember(projectId: $p, user: "alice") }', { p: createProject.id })).toMatchObject({
      extensions: { code: 'FAILED_PRECONDITION' },
    });
    expect((await alice.gql('mutation($p: ID!) { removeProjectMember(projectId: $p, user: "bob") }', { p: seeded.projectId })).removeProjectMember).toBe(true);
    // Memberships are read per request: bob lost the project at once.
    expect(await bob.error(CANCEL, { id: jobId })).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('limits a token to its scopes: READ cannot write, WORKER runs only the worker protocol, ADMIN only for admins', async () => {
    const reader = (await userWithToken(server, 'reader', [TokenScope.READ], { roles: { [seeded.projectId]: ProjectRole.OWNER } })).client;
    expect((await reader.gql(PROJECT, { id: seeded.projectId })).project.myRole).toBe('OWNER');
    expect(await reader.error(CANCEL, { id: jobId })).toMatchObject({ status: 200, extensions: { code: 'FORBIDDEN' } });

    const worker = await userWithToken(server, 'runner', [TokenScope.WORKER]);
    expect(await worker.client.error('{ projects { id } }')).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const register = await fetch(`${server.url}/worker/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${worker.secret}` },
      body: JSON.stringify({ host: 'h', pid: 1, version: 'x', plugins: [], concurrency: 1, executors: [] }),
    });
    expect(register.status).not.toBe(401);
    const asReader = await fetch(`${server.url}/worker/v1/register`, { method: 'POST', headers: { authorization: `Bearer ${reader.token}` } });
    expect(asReader.status).toBe(401);

    expect(await alice.error('{ users { name } }')).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await alice.error('mutation { createToken(input: { name: "w", scopes: [WORKER] }) { secret } }')).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await admin.gql('{ users { name admin hasPassword } }')).toEqual({
      users: expect.arrayContaining([{ name: 'alice', admin: false, hasPassword: true }, { name: 'root', admin: true, hasPassword: false }]),
    });
  });

  it('shows a token once, stores only its hash, and stops it when revoked', async () => {
    const { createToken } = await alice.gql('mutation { createToken(input: { name: "laptop", scopes: [READ], expiresInDays: 30 }) { secret token { id prefix scopes expiresAt } } }');
    expect(createToken.secret).toMatch(/^slm_[A-Za-z0-9_-]{43}$/);
    expect(createToken.secret.startsWith(createToken.token.prefix)).toBe(true);
    const stored = await server.server.orm.em.fork().findOneOrFail(ApiToken, createToken.token.id);
    expect(JSON.stringify(stored)).not.toContain(createToken.secret.slice(4));
    expect(stored.secretHash).not.toContain(createToken.secret.slice(4));

    const laptop = new TokenClient(server.url, createToken.secret);
    expect((await laptop.gql('{ viewer { name } }')).viewer.name).toBe('alice');
    expect(await bob.error('mutation($id: ID!) { revokeToken(id: $id) { id } }', { id: createToken.token.id })).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    await alice.gql('mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }', { id: createToken.token.id });
    expect(await laptop.error('{ viewer { name } }')).toMatchObject({ status: 401, extensions: { code: 'UNAUTHENTICATED' } });

    await server.server.orm.em.fork().nativeUpdate(ApiToken, { name: 'bob-token' }, { expiresAt: new Date(Date.now() - 1000) });
    expect(await bob.error('{ viewer { name } }')).toMatchObject({ status: 401 });
    await server.server.orm.em.fork().nativeUpdate(ApiToken, { name: 'bob-token' }, { expiresAt: null });
  });

  it('signs a browser in with an HttpOnly SameSite=Strict cookie and needs its CSRF token on every request', async () => {
    const wrong = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: 'not it at all' }) });
    expect(wrong.status).toBe(401);
    const forged = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x\nadmin signed in', password: 'whatever it is' }) });
    expect(forged.status).toBe(401);
    expect(logged.some((line) => line.split('\n').some((part) => part.startsWith('admin signed in')))).toBe(false);
    const login = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: 'alice password 1' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^slimlab_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const { csrfToken, user } = await body(login);
    expect(user.name).toBe('alice');
    const session = cookie.split(';')[0]!;
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: session, ...headers }, body: '{"query":"{ viewer { name } }"}' });
    const noCsrf = await post({});
    expect(noCsrf.status).toBe(403);
    expect((await body(noCsrf)).errors[0].extensions.code).toBe('CSRF');
    expect(await body(await post({ 'x-csrf-token': csrfToken }))).toEqual({ data: { viewer: { name: 'alice' } } });
    expect(await body(await fetch(`${server.url}/auth/session`, { headers: { cookie: session } }))).toMatchObject({ authRequired: true, user: { name: 'alice' }, csrfToken });

    expect((await fetch(`${server.url}/auth/logout`, { method: 'POST', headers: { cookie: session } })).status).toBe(403);
    expect((await fetch(`${server.url}/auth/logout`, { method: 'POST', headers: { cookie: session, 'x-csrf-token': csrfToken } })).status).toBe(204);
    expect((await post({ 'x-csrf-token': csrfToken })).status).toBe(401);
    expect(logged.join('\n')).not.toContain('alice password 1');
  });

  it('rate-limits sign-in attempts per user name', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nobody', password: `guess number ${i}` }) });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await body(res)).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
      }
    }
    // Ten attempts at once (the address has spent three on the sign-in test already), then refused
    // without checking the password.
    const allowed = statuses.indexOf(429);
    expect(allowed).toBeGreaterThanOrEqual(7);
    expect(allowed).toBeLessThanOrEqual(10);
    expect(statuses).toEqual([...Array(allowed).fill(401), ...Array(12 - allowed).fill(429)]);
  });

  it('refuses a WebSocket without a credential, and keeps a subscriber from other projects\' events', async () => {
    const anonymous = new TokenClient(server.url, '').socket();
    expect(await connectOutcome(anonymous)).toBe(4403);
    await anonymous.dispose();

    const aliceSocket = alice.socket();
    const bobSocket = bob.socket();
    const seen: Record<string, string[]> = { alice: [], bob: [] };
    const listen = (socket: Client, who: string) =>
      socket.subscribe({ query: 'subscription { jobUpdated { id } }' }, { next: (e) => void seen[who]!.push((e.data as { jobUpdated: { id: string } }).jobUpdated.id), error: () => undefined, complete: () => undefined });
    const stops = [listen(aliceSocket, 'alice'), listen(bobSocket, 'bob')];
    expect(await connectOutcome(bobSocket)).toBe('open');
    expect(await connectOutcome(aliceSocket)).toBe('open');
    await alice.gql(CANCEL, { id: jobId });
    for (let i = 0; i < 100 && seen.alice!.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen.alice).toContain(jobId);
    expect(seen.bob).toEqual([]);
    stops.forEach((stop) => stop());
    await Promise.all([aliceSocket.dispose(), bobSocket.dispose()]);
  });

  it('closes an open WebSocket once its token is revoked', async () => {
    const { createToken } = await alice.gql('mutation { createToken(input: { name: "socket", scopes: [READ] }) { secret token { id } } }');
    const socket = new TokenClient(server.url, createToken.secret).socket(false);
    expect(await connectOutcome(socket)).toBe('open');
    await alice.gql('mutation($id: ID!) { revokeToken(id: $id) { id } }', { id: createToken.token.id });
    // The next operation finds the credential gone, and the server ends the connection.
    expect(await connectOutcome(socket)).toBe(4401);
    await socket.dispose();
  });

  it('never writes a token or password to the log', async () => {
    expect(logged.some((line) => /slm_[A-Za-z0-9_-]{10}/.test(line))).toBe(false);
  });
});
