import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { defaultChannels, profile } from '../../autoslim';
import { AuthStub } from '../support/auth-stub';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';
import { TokenClient, userWithToken } from '../support/auth';
import { TokenScope } from '../../schema/enums';

const PACKAGE = join(__dirname, '..', '..', 'clients', 'python');
const CLIENT = join(PACKAGE, 'slimlab_client.py');

interface RunOptions {
  /** Called with each stdout line as it comes. */
  readonly onLine?: (line: string) => void;
  /** Added to the environment, which otherwise has no SLIMLAB_TOKEN. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs python3 with these arguments; resolves with its stdout lines once it exits. */
function runPython(argv: string[], { onLine = () => undefined, env = {} }: RunOptions = {}): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLIMLAB_TOKEN: '', ...env } });
    const lines: string[] = [];
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        onLine(line);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, lines, stderr }));
  });
}

/** Runs the client as a script. */
function runClient(args: string[], options: RunOptions = {}) {
  return runPython([CLIENT, ...args], options);
}

// Against a server with authentication on, as a team runs it: every request and the socket carry the token.
describe('the notebook client (clients/python/slimlab_client.py)', () => {
  let server: TestServer;
  let client: TokenClient;
  let env: NodeJS.ProcessEnv;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((open) => (release = open));
  const options = { inputSize: 28, numClasses: 10 };
  const widths = [1, 0.75, 0.5];

  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET'], async (job, ctx) => {
    const { runId } = job.payload as { runId: string };
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'supernet.safetensors', Buffer.from('weights'));
    await ctx.report({ type: 'checkpoint', runId, artifact, step: 1 });
    return {};
  });
  const slimmer = new ScriptedPlugin(['SLIM'], async (job, ctx) => {
    await gate;
    const { trajectoryId } = job.payload as { trajectoryId: string };
    for (const [index, width] of widths.entries()) {
      const channels = [...defaultChannels('mbv2-fmnist', width, options)];
      const { macs, params } = profile('mbv2-fmnist', defaultChannels('mbv2-fmnist', width, options), options);
      const accuracy = 0.7 + width / 5;
      await ctx.report({
        type: 'slimmingStep',
        trajectoryId,
        step: { index, unitIndex: index || null, unitName: index ? `unit${index}` : null, channels, macs, params, predictedLatencyMs: null, score: accuracy, accuracy, accuracyDrop: 0.9 - accuracy, proposals: [] },
      });
      if (index > 0) await ctx.report({ type: 'candidate', trajectoryId, target: macs, channels, searchAccuracy: accuracy, step: index });
    }
    return {};
  }, 'scripted-slim');

  const roots = mkdtempSync(join(tmpdir(), 'slimlab-notebook-'));

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [trainer, slimmer], undefined, { auth: true, datasetRoots: [roots, '/usr/share/datasets'] });
    const user = await userWithToken(server, 'notebook', [TokenScope.WRITE]);
    client = user.client;
    env = { SLIMLAB_TOKEN: user.secret };
  });

  afterAll(async () => {
    await server.stop();
    rmSync(roots, { recursive: true, force: true });
  });

  it('registers Fashion-MNIST and an image folder of mixed sizes, printing the progress', async () => {
    const { createProject: project } = await client.gql(`mutation { createProject(input: { name: "notebook-data" }) { id } }`);
    const fashion = await runClient(['--server', server.url, 'register', '--project', project.id, '--name', 'fashion', '--format', 'IDX', '--path', '/usr/share/datasets/fashion-mnist'], { env });
    expect(fashion.code).toBe(0);
    // The statistics pass over the 60,000 training records, reported every 10,000.
    expect(fashion.stderr).toContain('statistics 60000/60000');
    expect(JSON.parse(fashion.lines.at(-1)!)).toMatchObject({ format: 'IDX', trainSize: 60000, searchSize: 6000, normalization: { images: 54000 }, manifest: { sha256: expect.any(String) } });

    const folder = join(roots, 'photos');
    for (const [split, size] of [['train', 10], ['test', 14], ['train', 30], ['test', 20]] as const) {
      for (const name of ['a', 'b']) {
        mkdirSync(join(folder, split, name), { recursive: true });
        const png = new PNG({ width: size, height: size + 3 });
        png.data.fill(name === 'a' ? 40 : 200);
        writeFileSync(join(folder, split, name, `${size}.png`), PNG.sync.write(png));
      }
    }
    const photos = await runClient(['--server', server.url, 'register', '--project', project.id, '--name', 'photos', '--format', 'IMAGE_FOLDER', '--path', folder], { env });
    expect(photos.code).toBe(0);
    expect(photos.stderr).toContain('headers 8/8');
    expect(JSON.parse(photos.lines.at(-1)!)).toMatchObject({ format: 'IMAGE_FOLDER', classNames: ['a', 'b'], sizesVary: true, inputWidth: 10, inputHeight: 13 });
  });

  it('follows a running trajectory live over graphql-transport-ws, then lists the leaderboard', async () => {
    const { projectId, datasetId, space } = await seedProject(client, 'notebook');
    const job = await trainSupernet(client, space.id, datasetId);
    await eventually(async () => {
      const { job: j } = await client.gql(`query($id: ID!) { job(id: $id) { state } }`, { id: job.id });
      return j.state === 'SUCCEEDED' ? true : undefined;
    });
    const { startSlimming } = await client.gql(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [5e6], evalBatchSize: 32 }) { payload } }`, {
      s: job.payload.supernetId,
    });
    // No --steps: it returns when the slimming job has finished.
    const follow = runClient(['--server', server.url, 'follow', '--trajectory', startSlimming.payload.trajectoryId], {
      env,
      onLine: (line) => {
        if (line === 'subscribed') release();
      },
    });
    const followed = await follow;
    expect(followed.code).toBe(0);
    const steps = followed.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(steps.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(steps[0].macs).toBe(9105872);

    // Followed after it finished, the trajectory replays every step made, then returns.
    const replay = await runClient(['--server', server.url, 'follow', '--trajectory', startSlimming.payload.trajectoryId], { env });
    expect(replay.code).toBe(0);
    expect(replay.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).index)).toEqual([0, 1, 2]);

    const board = await runClient(['--server', server.url, 'leaderboard', '--project', projectId], { env });
    expect(board.code).toBe(0);
    const rows = board.lines.map((line) => JSON.parse(line));
    expect(rows.map((r) => r.source)).toEqual(['AUTOSLIM', 'AUTOSLIM']);
    // The id an export takes is in every row.
    for (const row of rows) expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows[0].macs).toBeLessThan(rows[1].macs);
  });

  it('says clearly when the server is unreachable or an id is unknown', async () => {
    const unreachable = await runClient(['--server', 'http://127.0.0.1:9', 'leaderboard', '--project', 'x']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the slimlab server at http:\/\/127.0.0.1:9/);
    const unknown = await runClient(['--server', server.url, 'leaderboard', '--project', 'not-an-id'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/slimlab: filter.projectId: must be an id/);
  });

  it('raises NotFound for a trajectory id that names nothing', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const followed = await runClient(['--server', server.url, 'follow', '--trajectory', missing], { env });
    expect(followed.code).toBe(1);
    expect(followed.stderr).toContain(`slimlab: id: no trajectory with id "${missing}"`);
    const script = [
      'import asyncio, sys',
      `sys.path.insert(0, ${JSON.stringify(PACKAGE)})`,
      'from slimlab_client import NotFound, Slimlab',
      'async def follow():',
      '    async for step in Slimlab(sys.argv[1]).follow_trajectory(sys.argv[2]): pass',
      'try:',
      '    asyncio.run(follow())',
      'except NotFound as error:',
      '    print(error.code)',
    ].join('\n');
    expect(await runPython(['-B', '-c', script, server.url, missing], { env })).toMatchObject({ code: 0, lines: ['NOT_FOUND'] });
  });
});

describe('the notebook client with API tokens', () => {
  const token = `slm_${'t'.repeat(43)}`;
  const wrong = `slm_${'w'.repeat(43)}`;
  const row = { configHash: 'abc', source: 'AUTOSLIM', macs: 5, params: 6, searchAccuracy: 0.8, retrainedTop1Mean: null, retrainedTop1Std: null, retrainedRuns: 0 };
  const step = { index: 0, unitName: null, macs: 9, params: 3, accuracy: 0.9, accuracyDrop: 0 };
  let stub: AuthStub;

  beforeAll(async () => {
    stub = await AuthStub.start({
      tokens: [token],
      fields: {
        candidates: () => ({ totalCount: 1, pageInfo: { hasNextPage: false, endCursor: null }, edges: [{ node: row }] }),
        viewer: () => ({ id: 'u1', name: 'Ada', admin: false }),
        trajectory: () => ({ supernet: { searchSpace: { projectId: 'p1' } }, steps: [] }),
        jobs: () => [{ id: 'j1', subjectId: 't1', state: 'RUNNING', error: null }],
        job: () => ({ id: 'j1', state: 'RUNNING', error: null }),
      },
      subscriptions: { slimmingProgress: () => [step] },
    });
  });
  afterAll(() => stub.stop());

  it('sends SLIMLAB_TOKEN as the Authorization header and in the connection_init payload', async () => {
    const board = await runClient(['--server', stub.url, 'leaderboard', '--project', 'p1'], { env: { SLIMLAB_TOKEN: token } });
    expect(board.code).toBe(0);
    expect(board.lines.map((line) => JSON.parse(line))).toEqual([row]);
    const follow = await runClient(['--server', stub.url, 'follow', '--trajectory', 't1', '--steps', '1'], { env: { SLIMLAB_TOKEN: token } });
    expect(follow.code).toBe(0);
    expect(follow.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))).toEqual([step]);
    expect(stub.seen.map((s) => s.field ?? s.via)).toEqual(['candidates', 'trajectory', 'jobs', 'websocket', 'job', 'trajectory']);
    for (const request of stub.seen) expect(request.authorization).toBe(`Bearer ${token}`);
  });

  it('takes token= before SLIMLAB_TOKEN', async () => {
    const script = `import sys; sys.path.insert(0, ${JSON.stringify(PACKAGE)}); from slimlab_client import Slimlab; print(Slimlab(sys.argv[1], token=sys.argv[2]).query("{ viewer { name } }")["viewer"]["name"])`;
    const run = await runPython(['-B', '-c', script, stub.url, token], { env: { SLIMLAB_TOKEN: wrong } });
    expect(run).toMatchObject({ code: 0, lines: ['Ada'] });
    expect(stub.seen.at(-1)?.authorization).toBe(`Bearer ${token}`);
  });

  it('runs queries without websockets installed, and says what subscribing needs', async () => {
    const script = [
      'import asyncio, sys',
      "sys.modules['websockets'] = None  # as if it were not installed",
      `sys.path.insert(0, ${JSON.stringify(PACKAGE)})`,
      'from slimlab_client import Slimlab',
      'client = Slimlab(sys.argv[1], token=sys.argv[2])',
      'print(len(client.leaderboard("p1")))',
      'async def follow():',
      '    async for step in client.follow_trajectory("t1"): pass',
      'try:',
      '    asyncio.run(follow())',
      'except ImportError as error:',
      '    print(error)',
    ].join('\n');
    const run = await runPython(['-B', '-c', script, stub.url, token]);
    expect(run).toMatchObject({ code: 0, lines: ['1', 'slimlab subscriptions need the websockets package (Debian: apt install python3-websockets)'] });
  });

  it('installs with pip from the repository folder, as a module and a command', async () => {
    const work = mkdtempSync(join(tmpdir(), 'slimlab-client-pip-'));
    try {
      // A copy: building in place would leave build/ and egg-info in the checkout.
      cpSync(PACKAGE, join(work, 'source'), { recursive: true });
      const target = join(work, 'site');
      const pip = spawnSync('/usr/bin/python3', ['-m', 'pip', 'install', '--no-build-isolation', '--no-deps', '--no-index', '--target', target, join(work, 'source')], { encoding: 'utf8' });
      expect(pip.stderr).not.toMatch(/error/i);
      expect(pip.status).toBe(0);
      expect(existsSync(join(target, 'bin', 'slimlab-client'))).toBe(true);
      const undocumented = [
        'import inspect, slimlab_client',
        'public = [getattr(slimlab_client, name) for name in slimlab_client.__all__]',
        'public += [m for n, m in inspect.getmembers(slimlab_client.Slimlab) if not n.startswith("_") and callable(m)]',
        'print([f.__name__ for f in public if not inspect.getdoc(f)])',
      ].join('\n');
      const site = { PYTHONPATH: target, PYTHONNOUSERSITE: '1' };
      expect(await runPython(['-B', '-c', undocumented], { env: site })).toMatchObject({ code: 0, lines: ['[]'] });
      const board = await runPython(['-B', '-m', 'slimlab_client', '--server', stub.url, 'leaderboard', '--project', 'p1'], { env: { ...site, SLIMLAB_TOKEN: token } });
      expect(board.code).toBe(0);
      expect(board.lines.map((line) => JSON.parse(line))).toEqual([row]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('raises a clear error when the server wants a token, over HTTP and on the socket', async () => {
    const none = await runClient(['--server', stub.url, 'leaderboard', '--project', 'p1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('slimlab: the server needs a token: pass token= or set SLIMLAB_TOKEN\n');
    const refused = await runClient(['--server', stub.url, 'leaderboard', '--project', 'p1'], { env: { SLIMLAB_TOKEN: wrong } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('slimlab: the server refused the token (the token is invalid or expired): pass token= or set SLIMLAB_TOKEN\n');
    const subscribe = [
      'import asyncio, sys',
      `sys.path.insert(0, ${JSON.stringify(PACKAGE)})`,
      'from slimlab_client import GraphQLError, Slimlab',
      'async def listen():',
      '    async for event in Slimlab(sys.argv[1]).subscribe("subscription { slimmingProgress(trajectoryId: \\"t1\\") { index } }"): pass',
      'try:',
      '    asyncio.run(listen())',
      'except GraphQLError as error:',
      '    sys.exit(f"slimlab: {error}")',
    ].join('\n');
    const socket = await runPython(['-B', '-c', subscribe, stub.url], { env: { SLIMLAB_TOKEN: wrong } });
    expect(socket.code).toBe(1);
    expect(socket.stderr).toBe('slimlab: the server refused the token (Forbidden): pass token= or set SLIMLAB_TOKEN\n');
  });
});
