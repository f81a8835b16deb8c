import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../cli/io';
import { main } from '../../cli/main';
import { TokenClient } from '../support/auth';
import { TestServer } from '../support/server';

/** `slimlab admin …` against a SQLite file, then a server with authentication on that file. */
describe('slimlab admin', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'slimlab-admin-'));
    env = { SLIMLAB_DATA_DIR: dataDir, XDG_CONFIG_HOME: dataDir };
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function slimlab(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), readSecret: async () => stdin, interactive: false, env };
    const code = await main(argv, io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('bootstraps an admin and their token with no server and no credential, and the server accepts the token', async () => {
    expect(await slimlab(['admin', 'create-user', 'root', '--admin'], 'root password 1')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created admin user root \(/) });
    const minted = await slimlab(['admin', 'create-token', 'root', '--scope', 'admin', '--name', 'bootstrap', '--expires-days', '7']);
    expect(minted.code).toBe(0);
    expect(minted.stderr).toMatch(/token "bootstrap" for root, scopes ADMIN, expires .*; it is shown once/);
    const token = minted.stdout.trim();
    expect(token).toMatch(/^slm_[A-Za-z0-9_-]{43}$/);

    const server = await TestServer.start('sqlite', [], { database: { kind: 'sqlite', file: join(dataDir, 'slimlab.db') }, dataDir }, { auth: true });
    try {
      const root = new TokenClient(server.url, token);
      expect(await root.gql('{ viewer { name admin } }')).toEqual({ viewer: { name: 'root', admin: true } });
      await root.gql('mutation { createProject(input: { name: "lab" }) { id } }');

      expect((await slimlab(['admin', 'create-user', 'ada', '--no-password'])).stdout).toMatch(/created user ada .*tokens only/);
      expect((await slimlab(['admin', 'add-member', 'lab', 'ada', '--role', 'viewer'])).stdout).toBe('ada is VIEWER of lab\n');
      const ada = new TokenClient(server.url, (await slimlab(['admin', 'create-token', 'ada', '--scope', 'read'])).stdout.trim());
      expect(await ada.gql('{ projects { name myRole } }')).toEqual({ projects: [{ name: 'lab', myRole: 'VIEWER' }] });

      // The CLI's own commands reach the server with the token, and say how to give one without it.
      expect(await slimlab(['whoami', '--server', server.url, '--token', ada.token])).toMatchObject({ code: 0 });
      expect(await slimlab(['whoami', '--server', server.url])).toMatchObject({ code: 2, stderr: expect.stringContaining('the server needs a token') });
    } finally {
      await server.stop({ keepData: true });
    }
  });

  it('refuses bad input with the rule, and writes nothing', async () => {
    expect(await slimlab(['admin', 'create-user', 'no spaces allowed'], 'a long password')).toMatchObject({ code: 2, stderr: expect.stringContaining('input.name: must be 1 to 64 letters') });
    expect(await slimlab(['admin', 'create-user', 'short'], 'tiny')).toMatchObject({ code: 2, stderr: expect.stringContaining('at least 10 characters') });
    expect(await slimlab(['admin', 'create-user', 'root'], 'another password')).toMatchObject({ code: 2, stderr: expect.stringContaining('a user named "root" exists') });
    expect(await slimlab(['admin', 'create-token', 'nobody', '--scope', 'read'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no user named "nobody"') });
    expect(await slimlab(['admin', 'create-token', 'root', '--scope', 'read,sudo'])).toMatchObject({ code: 2, stderr: expect.stringContaining('"sudo" is not one of') });
    expect(await slimlab(['admin', 'create-token', 'ada', '--scope', 'admin'])).toMatchObject({ code: 2, stderr: expect.stringContaining('ADMIN can only be granted to an admin user') });
    expect(await slimlab(['admin', 'add-member', 'lab', 'root', '--role', 'king'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--role must be viewer, editor or owner') });
    expect(await slimlab(['admin', 'frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: slimlab admin') });
  });
});
