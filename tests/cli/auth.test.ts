import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerRequest } from '../../cli/commands/worker';
import type { Io } from '../../cli/io';
import { main } from '../../cli/main';
import { AuthStub } from '../support/auth-stub';

/** Well-formed API tokens: `slm_` and 43 base64url characters. */
const TOKENS = {
  stored: `slm_${'a'.repeat(43)}`,
  env: `slm_${'b'.repeat(43)}`,
  flag: `slm_${'c'.repeat(43)}`,
  unknown: `slm_${'d'.repeat(42)}_`,
};

const VIEWER = () => ({ id: 'u1', name: 'Ada', admin: false });

let config: string;
beforeEach(() => {
  config = mkdtempSync(join(tmpdir(), 'slimlab-config-'));
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command line with its own config folder and `stdin` as what the user types; no token may show in what it prints. */
async function slimlab(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    readSecret: async () => options.stdin ?? '',
    interactive: false,
    env: { XDG_CONFIG_HOME: config, ...options.env },
  };
  const outcome = { code: await main(argv, io), stdout: out.join(''), stderr: err.join('') };
  expectNoToken(outcome);
  return outcome;
}

function expectNoToken({ stdout, stderr }: { stdout: string; stderr: string }): void {
  for (const token of Object.values(TOKENS)) {
    expect(stdout).not.toContain(token);
    expect(stderr).not.toContain(token);
  }
}

const credentialsFile = () => join(config, 'slimlab', 'credentials.json');

describe('slimlab CLI credentials', () => {
  let stub: AuthStub;
  let other: AuthStub;

  beforeAll(async () => {
    stub = await AuthStub.start({ fields: { viewer: VIEWER }, tokens: [TOKENS.stored, TOKENS.env, TOKENS.flag] });
    other = await AuthStub.start({ fields: { viewer: VIEWER } });
  });
  afterAll(async () => {
    await stub.stop();
    await other.stop();
  });

  const lastAuthorization = (server: AuthStub) => server.seen.at(-1)?.authorization;

  it('takes --token, else SLIMLAB_TOKEN, else the token stored for that server', async () => {
    expect((await slimlab(['login', '--server', stub.url], { stdin: `${TOKENS.stored}\n` })).code).toBe(0);

    expect((await slimlab(['whoami', '--server', stub.url])).code).toBe(0);
    expect(lastAuthorization(stub)).toBe(`Bearer ${TOKENS.stored}`);
    // The stored entry is the server's, however its URL is written.
    expect((await slimlab(['whoami'], { env: { SLIMLAB_URL: `${stub.url}/` } })).code).toBe(0);
    expect(lastAuthorization(stub)).toBe(`Bearer ${TOKENS.stored}`);

    expect((await slimlab(['whoami', '--server', stub.url], { env: { SLIMLAB_TOKEN: TOKENS.env } })).code).toBe(0);
    expect(lastAuthorization(stub)).toBe(`Bearer ${TOKENS.env}`);

    expect((await slimlab(['whoami', '--server', stub.url, '--token', TOKENS.flag], { env: { SLIMLAB_TOKEN: TOKENS.env } })).code).toBe(0);
    expect(lastAuthorization(stub)).toBe(`Bearer ${TOKENS.flag}`);

    // Another server gets no token stored for the first one; a server in local mode needs none.
    expect((await slimlab(['whoami', '--server', other.url])).code).toBe(0);
    expect(other.seen.at(-1)).toEqual({ via: 'http', path: '/graphql', field: 'viewer', authorization: undefined });
  });

  it('login checks the token with the viewer query, then stores it owner-only; logout forgets it', async () => {
    const login = await slimlab(['login', '--server', stub.url], { stdin: `  ${TOKENS.stored}\r\n` });
    expect(login).toEqual({ code: 0, stdout: `signed in to ${stub.url} as Ada\n`, stderr: '' });
    expect(stub.seen.at(-1)).toEqual({ via: 'http', path: '/graphql', field: 'viewer', authorization: `Bearer ${TOKENS.stored}` });
    expect((await slimlab(['login', '--server', other.url], { stdin: TOKENS.env })).stdout).toBe(`signed in to ${other.url} as Ada\n`);

    expect(JSON.parse(readFileSync(credentialsFile(), 'utf8'))).toEqual({ [stub.url]: TOKENS.stored, [other.url]: TOKENS.env });
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'slimlab')).mode & 0o777).toBe(0o700);
    // Written by rename: no temporary file is left behind.
    expect(readdirSync(join(config, 'slimlab'))).toEqual(['credentials.json']);

    expect(await slimlab(['logout', '--server', stub.url])).toEqual({ code: 0, stdout: `signed out of ${stub.url}\n`, stderr: '' });
    expect(JSON.parse(readFileSync(credentialsFile(), 'utf8'))).toEqual({ [other.url]: TOKENS.env });
    expect((await slimlab(['logout', '--server', stub.url])).stdout).toBe(`no token stored for ${stub.url}\n`);
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
  });

  it('login stores nothing when the server refuses the token or it is not one', async () => {
    const refused = await slimlab(['login', '--server', stub.url], { stdin: TOKENS.unknown });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('slimlab: the server refused the token read from standard input (the token is invalid or expired): run `slimlab login` or set SLIMLAB_TOKEN\n');

    const sent = stub.seen.length;
    for (const typed of ['hunter2', '', `${TOKENS.stored} ${TOKENS.env}`]) {
      const malformed = await slimlab(['login', '--server', stub.url], { stdin: typed });
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain('the token read from standard input is not a slimlab API token (slm_ followed by 43');
    }
    const onCommandLine = await slimlab(['login', '--server', stub.url, '--token', TOKENS.flag]);
    expect(onCommandLine.code).toBe(2);
    expect(onCommandLine.stderr).toContain('login reads the token from standard input, not --token');
    // None of these reached the server.
    expect(stub.seen.length).toBe(sent);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it('login says so when the server predates API tokens', async () => {
    const old = await AuthStub.start({ fields: {} });
    try {
      const login = await slimlab(['login', '--server', old.url], { stdin: TOKENS.stored });
      expect(login.code).toBe(1);
      expect(login.stderr).toContain(`${old.url} does not know API tokens`);
      expect(existsSync(credentialsFile())).toBe(false);
    } finally {
      await old.stop();
    }
  });

  it('a server that needs a token says how to give one, with the exit code of a usage error', async () => {
    const none = await slimlab(['whoami', '--server', stub.url]);
    expect(none).toEqual({ code: 2, stdout: '', stderr: 'slimlab: the server needs a token: run `slimlab login` or set SLIMLAB_TOKEN\n' });

    const unknown = await slimlab(['whoami', '--server', stub.url], { env: { SLIMLAB_TOKEN: TOKENS.unknown } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('slimlab: the server refused the token from SLIMLAB_TOKEN (the token is invalid or expired): run `slimlab login` or set SLIMLAB_TOKEN\n');

    const sent = stub.seen.length;
    const malformed = await slimlab(['whoami', '--server', stub.url, '--token', 'hunter2']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('the token from --token is not a slimlab API token');
    expect(malformed.stderr).not.toContain('hunter2');
    expect(stub.seen.length).toBe(sent);
  });

  it('names a credentials file it cannot use, without quoting it', async () => {
    await slimlab(['login', '--server', stub.url], { stdin: TOKENS.stored });
    writeFileSync(credentialsFile(), `["${TOKENS.stored}"]`);
    const broken = await slimlab(['whoami', '--server', stub.url]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${credentialsFile()} is not a JSON object of server URLs and tokens`);
  });

  it('export carries the token on every request: GraphQL, the progress socket and the download', async () => {
    const onnx = Buffer.from('onnx bytes');
    const job = { id: 'j1', kind: 'EXPORT', state: 'SUCCEEDED', progress: 1, progressMessage: null, waitingReason: null, error: null };
    const result = { artifact: { id: 'a1' }, fileName: 'c.onnx', macs: 5, params: 6, testTop1: 0.5, testImages: 10, calibrationImages: 8, weights: 'supernet' };
    const server = await AuthStub.start({
      tokens: [TOKENS.flag],
      fields: {
        candidate: () => ({ id: 'c1', source: 'AUTOSLIM', trajectory: { id: 't1' }, searchSpace: { id: 's1', name: 'mbv2' } }),
        exportCandidate: () => ({ id: 'j1', projectId: 'p1' }),
        job: () => ({ ...job, result }),
        artifact: () => ({ downloadUrl: '/artifacts/a1', bytes: onnx.length, sha256: 'f'.repeat(64) }),
      },
      files: { '/artifacts/a1': onnx },
    });
    try {
      const file = join(config, 'c.onnx');
      const exported = await slimlab(['export', 'c1', '--onnx', file, '--server', server.url, '--token', TOKENS.flag]);
      expect(exported.stderr).toMatch(/^export \[#{24}\] 100% \(\d+s elapsed\)\n$/);
      expect(exported.code).toBe(0);
      expect(readFileSync(file)).toEqual(onnx);
      expect(server.seen.map((s) => `${s.via} ${s.path} ${s.field ?? ''}`.trim())).toEqual(
        expect.arrayContaining(['http /graphql candidate', 'http /graphql exportCandidate', 'websocket /graphql', 'http /graphql job', 'http /graphql artifact', 'http /artifacts/a1']),
      );
      for (const request of server.seen) expect(request.authorization).toBe(`Bearer ${TOKENS.flag}`);
    } finally {
      await server.stop();
    }
  });

  it('worker: --token, else SLIMLAB_WORKER_TOKEN, else an API token', async () => {
    await slimlab(['login', '--server', stub.url], { stdin: TOKENS.stored });
    const env = { XDG_CONFIG_HOME: config };
    const secret = 's'.repeat(32);
    expect(workerRequest({ server: stub.url }, env).token).toBe(TOKENS.stored);
    expect(workerRequest({ server: stub.url }, { ...env, SLIMLAB_TOKEN: TOKENS.env }).token).toBe(TOKENS.env);
    expect(workerRequest({ server: stub.url }, { ...env, SLIMLAB_TOKEN: TOKENS.env, SLIMLAB_WORKER_TOKEN: secret }).token).toBe(secret);
    expect(workerRequest({ server: stub.url, token: secret }, { ...env, SLIMLAB_WORKER_TOKEN: 'x'.repeat(32) }).token).toBe(secret);
  });

  it('login reads one line from a pipe when run as a process', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'login', '--server', stub.url], {
      env: { ...process.env, XDG_CONFIG_HOME: config, SLIMLAB_TOKEN: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(`${TOKENS.stored}\nthe rest is not read\n`);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `signed in to ${stub.url} as Ada\n`, stderr: '' });
    expect(JSON.parse(readFileSync(credentialsFile(), 'utf8'))).toEqual({ [stub.url]: TOKENS.stored });
  });
});
