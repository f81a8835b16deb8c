import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../cli/io';
import { main } from '../../cli/main';
import { writeIdxDataset } from '../support/fixtures';
import { TestServer } from '../support/server';

function capture(): { io: Io; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t) => void out.push(t), err: (t) => void err.push(t), readSecret: async () => '', interactive: false, env: {} },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** Temporary folders the tests made, removed at the end. */
const temporary: string[] = [];

function temp(dir: string): string {
  temporary.push(dir);
  return dir;
}

describe('slimlab dataset upload', () => {
  let server: TestServer;
  let projectId: string;

  beforeAll(async () => {
    server = await TestServer.start('sqlite');
    ({ createProject: { id: projectId } } = await server.gql(`mutation { createProject(input: { name: "cli-uploads" }) { id } }`));
  });
  afterAll(async () => {
    await server.stop();
    temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  async function upload(...args: string[]) {
    const run = capture();
    const code = await main(['dataset', 'upload', ...args, '--server', server.url], run.io);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  }

  it('tars a folder on the fly, with progress for a large one, and prints the dataset id and shape', async () => {
    const folder = temp(writeIdxDataset(200, 50));
    // Files the IDX loader does not read travel too: one large (for progress), one with a name longer than a ustar header holds.
    writeFileSync(join(folder, 'notes.bin'), Buffer.alloc(17 * 1024 * 1024, 7));
    mkdirSync(join(folder, 'docs'));
    writeFileSync(join(folder, 'docs', `${'n'.repeat(120)}.txt`), 'about this dataset');

    const run = await upload(folder, '--project', 'cli-uploads', '--name', 'fmnist', '--search-fraction', '0.2', '--split-seed', '3');
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(
      /^dataset [0-9a-f-]{36} "fmnist": IDX, 1×8×8 images, 10 classes; 200 training images \(40 held out for the search\), 50 test; folder uploads\/[0-9a-f-]{36}\n$/,
    );
    expect(run.stderr).toContain('hashing 17.0 of 17.0 MB (100%)');
    expect(run.stderr).toContain('uploading 17.0 of 17.0 MB (100%)');

    const { datasets } = await server.gql(`query($p: ID!) { datasets(projectId: $p) { id name searchFraction splitSeed trainSize } }`, { p: projectId });
    expect(datasets).toEqual([{ id: run.stdout.split(' ')[1], name: 'fmnist', searchFraction: 0.2, splitSeed: 3, trainSize: 200 }]);
  });

  it('sends a .tar.gz as it is, to a project named by its id', async () => {
    const archive = join(temp(mkdtempSync(join(tmpdir(), 'slimlab-cli-tar-'))), 'fmnist.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', temp(writeIdxDataset(40, 20)), '.']);
    const run = await upload(archive, '--project', projectId, '--name', 'from-archive');
    // A small archive gets no transfer progress; the server's reading of it is reported as it goes.
    expect(run).toMatchObject({ code: 0, stderr: 'registering "from-archive": computing the normalization 40/40\n' });
    expect(run.stdout).toContain('"from-archive": IDX, 1×8×8 images, 10 classes; 40 training images');
  });

  it('says what is wrong: the command line, the project, the files, or what the server refused', async () => {
    const folder = temp(writeIdxDataset(40, 20));
    expect(await upload(folder, '--project', 'cli-uploads')).toMatchObject({ code: 2, stderr: 'slimlab: dataset upload needs --name <dataset name>\n' });
    expect(await upload(folder, '--project', 'cli-uploads', '--name', 'x', '--split-seed', '1.5')).toMatchObject({
      code: 2,
      stderr: 'slimlab: --split-seed must be a non-negative integer (got "1.5")\n',
    });
    expect(await upload(join(folder, 't10k-labels-idx1-ubyte'), '--project', 'cli-uploads', '--name', 'x')).toMatchObject({ code: 2 });
    expect(await upload(folder, '--project', 'nope', '--name', 'x')).toMatchObject({ code: 1, stderr: 'slimlab: no project has the id or name "nope"\n' });
    expect(await upload(folder, '--project', 'cli-uploads', '--name', 'fmnist')).toMatchObject({
      code: 1,
      stderr: 'slimlab: name: project already has a dataset named "fmnist"\n',
    });

    symlinkSync('/etc/hostname', join(folder, 'link'));
    const linked = await upload(folder, '--project', 'cli-uploads', '--name', 'linked');
    expect(linked.code).toBe(1);
    expect(linked.stderr).toContain('link is a symbolic link; a dataset upload holds regular files and folders only');
  });
});
