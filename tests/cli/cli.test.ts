import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { loadPipeline } from '../../cli/pipeline';
import type { Io } from '../../cli/io';
import { TestServer } from '../support/server';
import { scriptedSearch } from './scripted-search';

interface Captured {
  readonly io: Io;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** A run with no token: its config folder is an empty scratch folder, not the user's. */
function capture(env: NodeJS.ProcessEnv = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t) => void out.push(t), err: (t) => void err.push(t), readSecret: async () => '', interactive: false, env: { XDG_CONFIG_HOME: scratch, ...env } },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

const scratch = mkdtempSync(join(tmpdir(), 'slimlab-cli-'));

function pipelineFile(name: string, yaml: string): string {
  const file = join(scratch, name);
  writeFileSync(file, yaml);
  return file;
}

const PIPELINE = `
project: { name: cli-demo, description: scripted search }
dataset:
  name: synthetic
  format: SYNTHETIC
  synthetic: { numClasses: 10, trainSize: 400, testSize: 100, size: 28 }
searchSpace: { name: mbv2, architecture: mbv2-fmnist, maxWidth: 1.0 }
supernet:
  name: supernet
  recipe: { epochs: 2, batchSize: 32 }
slimming:
  targets: [7M, 4000000]
  evalBatchSize: 32
retrain:
  seeds: [0, 1]
  uniform: [1.0, 0.5]
  recipe: { epochs: 1 }
`;

describe('slimlab CLI against a running server', () => {
  let server: TestServer;
  let url: string;

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [scriptedSearch(() => server)]);
    url = server.url;
  });
  afterAll(() => server.stop());

  it('runs a pipeline end to end and prints the leaderboard', async () => {
    const run = capture({ SLIMLAB_URL: url });
    // Both walks pick the same configurations: the scripted executor ignores the BN mode.
    const twoModes = PIPELINE.replace('evalBatchSize: 32', 'evalBatchSize: 32\n  bnModes: [BATCH_STATS, RECALIBRATED]\n  calibrationImages: 64');
    const code = await main(['run', pipelineFile('pipeline.yaml', twoModes)], run.io);
    expect(run.stderr()).toMatch(/train supernet \[#+\] 100% \(\w+ elapsed\)/);
    // Slimming reports its cost as people read it, never 7.522e+6.
    expect(run.stderr()).not.toMatch(/\de\+\d/);
    expect(run.stderr()).toMatch(/retrain \[#+\] 100% 8\/8 done/);
    expect(code).toBe(0);
    const [leaderboard, ...summary] = run.stdout().split('\n\n');
    const rows = leaderboard!.trim().split('\n').slice(2);
    expect(rows).toHaveLength(4);
    expect(rows.filter((r) => / autoslim /.test(r))).toHaveLength(2);
    expect(rows.filter((r) => / uniform /.test(r))).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/\d+\.\d\d% ± \d+\.\d\d \(n=2\)$/);
    // Each row starts with the id `slimlab export` takes, next to the config hash.
    const { candidates } = await server.gql(`{ candidates(first: 50) { edges { node { id configHash } } } }`);
    const ids: { id: string; configHash: string }[] = candidates.edges.map((e: { node: unknown }) => e.node);
    for (const row of rows) {
      const [shortId, hash] = row.split(/\s+/);
      expect(ids.find((c) => c.id.startsWith(shortId!))?.configHash.slice(0, 10)).toBe(hash);
      expect(shortId).toHaveLength(8);
    }
    // Per BN mode, each budget against the widest uniform width within it, paired over the two
    // seeds: the second walk lists the configurations the first found too.
    const verdicts = summary.join('\n\n');
    for (const bnMode of ['BATCH_STATS', 'RECALIBRATED']) {
      const table = verdicts.match(new RegExp(`AutoSlim against uniform width, trajectory \\w+ \\(MACS, BN ${bnMode}\\):\n(.*\n){2}((.*\n){2})`));
      expect(table?.[2]).toMatch(/^ 7\.00M  [0-9a-f]{8} [0-9a-f]{10} .* [0-9a-f]{8} 0\.500x 3\.17M .* pt \[.*\] +AutoSlim (better|worse)\n 4\.00M .* 0\.500x 3\.17M /);
    }
    expect(verdicts).toContain('No ranking study ran');
    expect(verdicts).toMatch(/train supernet +\d+ s/);

    const { projects } = await server.gql(`{ projects { name supernets { trajectories { bnMode targets } } } }`);
    expect(projects.find((p: { name: string }) => p.name === 'cli-demo')).toEqual({
      name: 'cli-demo',
      supernets: [{ trajectories: [{ bnMode: 'BATCH_STATS', targets: [7e6, 4e6] }, { bnMode: 'RECALIBRATED', targets: [7e6, 4e6] }] }],
    });
  });

  it('shows how far the server has read a dataset folder while it registers it', async () => {
    const run = capture({ SLIMLAB_URL: url });
    const fashion = PIPELINE.replace('cli-demo', 'cli-fashion')
      .replace('  name: synthetic\n  format: SYNTHETIC\n  synthetic: { numClasses: 10, trainSize: 400, testSize: 100, size: 28 }', '  name: fashion\n  format: IDX\n  path: /usr/share/datasets/fashion-mnist')
      // Stops right after the dataset, at the supernet, which only the server checks.
      .replace('epochs: 2, batchSize: 32', 'epochs: 2, batchSize: 32, randomConfigs: 99');
    expect(await main(['run', pipelineFile('fashion.yaml', fashion)], run.io)).toBe(1);
    expect(run.stderr()).toContain('registering "fashion": computing the normalization 10000/60000\n');
    expect(run.stderr()).toContain('registering "fashion": computing the normalization 60000/60000\n');
    expect(run.stderr()).toContain('pipeline section supernet: input.recipe.randomConfigs');
  });

  it('a pipeline with a missing dataset folder or a search space the server would refuse creates nothing', async () => {
    const synthetic = '  name: synthetic\n  format: SYNTHETIC\n  synthetic: { numClasses: 10, trainSize: 400, testSize: 100, size: 28 }';
    const cases: [string, [string, string], string][] = [
      ['cli-typo-path', [synthetic, '  name: fashion\n  format: IDX\n  path: ./fashoin-mnist'], `dataset.path: nothing at ${join(scratch, 'fashoin-mnist')}`],
      ['cli-typo-arch', ['architecture: mbv2-fmnist', 'architecture: mbv9'], "searchSpace.architecture: unknown architecture 'mbv9'; the architectures are mobilenet-v1, "],
      ['cli-too-wide', ['maxWidth: 1.0', 'maxWidth: 9.0'], 'searchSpace.maxWidth: width multiplier 9 is outside [0.15, 1.5]'],
      ['cli-tiny-input', ['maxWidth: 1.0', 'maxWidth: 1.0, inputSize: 2'], 'searchSpace.inputSize: 2 is below 8, the factor this network strides its input down by'],
    ];
    for (const [project, [from, to], message] of cases) {
      const run = capture({ SLIMLAB_URL: url });
      const yaml = PIPELINE.replace('cli-demo', project).replace(from, to);
      expect(await main(['run', pipelineFile(`${project}.yaml`, yaml)], run.io)).toBe(2);
      expect(run.stderr()).toContain(message);
      expect(run.stderr()).not.toContain('known: ');
      const { projects } = await server.gql(`{ projects { name } }`);
      expect(projects.map((p: { name: string }) => p.name)).not.toContain(project);
    }
  });

  it('stops at a failed job and says which one and why', async () => {
    const run = capture({ SLIMLAB_URL: url });
    const diverging = PIPELINE.replace('cli-demo', 'cli-diverging').replace('epochs: 2, batchSize: 32', 'epochs: 2, learningRate: 5');
    expect(await main(['run', pipelineFile('diverging.yaml', diverging)], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/slimlab: TRAIN_SUPERNET job [\w-]+ failed: .*loss diverged to NaN/);
  });

  it('rejects a pipeline file with an error naming the file and the field', async () => {
    const cases: [string, string, string][] = [
      ['syntax.yaml', 'project: [unclosed', 'is not valid YAML'],
      ['target.yaml', PIPELINE.replace('[7M, 4000000]', '[7M, lots]'), 'slimming.targets[1] must be a positive number'],
      ['typo.yaml', PIPELINE.replace('evalBatchSize: 32', 'evalBatchSzie: 32'), 'slimming.evalBatchSzie is not a known field'],
      ['missing.yaml', PIPELINE.replace(/supernet:\n  name: supernet\n  recipe: .*\n/, ''), 'supernet must be a mapping'],
      ['idx.yaml', PIPELINE.replace('format: SYNTHETIC', 'format: IDX'), 'dataset.path is required when dataset.format is IDX'],
      ['modes.yaml', PIPELINE.replace('evalBatchSize: 32', 'evalBatchSize: 32\n  bnMode: BATCH_STATS\n  bnModes: [RECALIBRATED]'), 'slimming.bnMode and slimming.bnModes: give one of them'],
      ['groups.yaml', PIPELINE.replace('maxWidth: 1.0', 'maxWidth: 1.0, groups: 100'), 'searchSpace.groups must be an integer from 1 to 64 (got 100)'],
      ['uniform.yaml', PIPELINE.replace('uniform: [1.0, 0.5]', 'uniform: matched'), 'retrain.uniform must be a list of width multipliers, or match (got "matched")'],
      ['study.yaml', PIPELINE.replace(/retrain:\n(  .*\n)+/, 'study: { sampledConfigs: 4 }\n'), 'study.seeds and study.recipe are required when there is no retrain section'],
    ];
    for (const [name, yaml, message] of cases) {
      const run = capture({ SLIMLAB_URL: url });
      const file = pipelineFile(name, yaml);
      expect(await main(['run', file], run.io)).toBe(2);
      expect(run.stderr()).toContain(`slimlab: ${file}`);
      expect(run.stderr()).toContain(message);
    }
    const absent = capture();
    expect(await main(['run', join(scratch, 'absent.yaml'), '--server', url], absent.io)).toBe(2);
    expect(absent.stderr()).toContain('cannot read pipeline');
  });

  it('export: a uniform candidate has no supernet of its own; the error lists those that fit', async () => {
    const { projects } = await server.gql(`{ projects { name supernets { id name } } }`);
    const demo = projects.find((p: { name: string }) => p.name === 'cli-demo');
    const { candidates } = await server.gql(`{ candidates(filter: { source: UNIFORM }, first: 1) { edges { node { id } } } }`);
    const uniform = candidates.edges[0].node.id;
    const run = capture({ SLIMLAB_URL: url });
    expect(await main(['export', uniform, '--onnx', join(scratch, 'uniform.onnx')], run.io)).toBe(2);
    expect(run.stderr()).toContain(`candidate ${uniform.slice(0, 8)} is a uniform candidate: it has no supernet of its own; pass --supernet <id>`);
    expect(run.stderr()).toContain(`  ${demo.supernets[0].id.slice(0, 8)}  supernet (dataset synthetic)`);
  });

  it('export: reports an unknown id, and bad options before contacting the server', async () => {
    const unknown = capture();
    expect(await main(['export', '00000000-0000-4000-8000-000000000000', '--onnx', 'out.onnx', '--server', url], unknown.io)).toBe(1);
    expect(unknown.stderr()).toContain('no candidate with id "00000000-0000-4000-8000-000000000000"');

    const cases: [string[], string][] = [
      [['export', 'c1'], 'export needs --onnx <file>'],
      [['export', 'c1', '--onnx', 'o.onnx', '--bn', 'sometimes'], '--bn must be folded or running (got "sometimes")'],
      [['export', 'c1', '--onnx', 'o.onnx', '--calibration-images', '1'], '--calibration-images must be an integer of at least 2 (got "1")'],
    ];
    for (const [argv, message] of cases) {
      const bad = capture();
      expect(await main([...argv, '--server', url], bad.io)).toBe(2);
      expect(bad.stderr()).toContain(message);
    }
  });
});

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the example pipelines', () => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'));

  it.each(examples)('%s is a valid pipeline', (file) => {
    expect(() => loadPipeline(join('examples', file))).not.toThrow();
  });

  it('the study walks both BN modes, matches baselines and retrains with three seeds', () => {
    const study = loadPipeline('examples/fashion-mnist-study.yaml');
    expect(study.slimming.bnModes).toEqual(['BATCH_STATS', 'RECALIBRATED']);
    expect(study.slimming.targets).toHaveLength(3);
    expect(study.retrain).toMatchObject({ uniform: 'match', seeds: [0, 1, 2] });
    expect(study.study).toBeDefined();
  });
});

describe('slimlab CLI without a server', () => {
  it('says which server it could not reach and how to fix it', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const run = capture({ SLIMLAB_URL: server });
    expect(await main(['export', 'c1', '--onnx', join(scratch, 'c1.onnx')], run.io)).toBe(1);
    expect(run.stderr()).toContain(`cannot reach the slimlab server at ${server} (ECONNREFUSED)`);
    expect(run.stderr()).toContain('slimlab serve');
  });

  it('rejects a server address that is not an http URL', async () => {
    const run = capture();
    expect(await main(['export', 'c1', '--onnx', 'o.onnx', '--server', 'ftp://host'], run.io)).toBe(2);
    expect(run.stderr()).toContain('--server must be an http:// or https:// URL');
  });

  it('profiles an architecture in both conventions, per layer, with no server to ask', async () => {
    const nowhere = { SLIMLAB_URL: `http://127.0.0.1:${await closedPort()}` };
    const reference = capture(nowhere);
    expect(await main(['profile', 'mbv2-fmnist'], reference.io)).toBe(0);
    expect(reference.stdout()).toContain('total (reference convention): 9.11M MACs (9,105,872), ');
    expect(reference.stdout()).toMatch(/^layer\s+op\s+MACs\s+params$/m);
    expect(reference.stdout()).not.toMatch(/\de\+\d/);

    const mmcv = capture(nowhere);
    expect(await main(['profile', 'mbv2-fmnist', '--convention', 'mmcv'], mmcv.io)).toBe(0);
    expect(mmcv.stdout()).toMatch(/total \(mmcv convention\): [\d.]+[kMG]? MACs \([\d,]+\)/);
    expect(mmcv.stdout()).not.toContain('9,105,872');
  });

  it('names the option a profile request gets wrong, and lists the architectures once', async () => {
    const badOption = capture();
    expect(await main(['profile', 'mbv2-fmnist', '--channels', '16,x'], badOption.io)).toBe(2);
    expect(badOption.stderr()).toContain('--channels entry 2 must be a positive integer (got "x")');

    const badList = capture();
    expect(await main(['profile', 'mbv2-fmnist', '--channels', '16,16'], badList.io)).toBe(2);
    expect(badList.stderr()).toMatch(/^slimlab: --channels: length: mbv2-fmnist takes \d+ entries, got 2/);

    const unknown = capture();
    expect(await main(['profile', 'resnet-9000'], unknown.io)).toBe(2);
    expect(unknown.stderr()).toBe(
      "slimlab: architecture: choice: unknown architecture 'resnet-9000'; the architectures are mobilenet-v1, mobilenet-v2, mnasnet, resnet-50, mbv2-fmnist, resnet-cifar\n",
    );
  });

  it('prints help for all commands or one, and the version', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const help = capture();
      expect(await main(argv, help.io)).toBe(0);
      expect(help.stdout()).toMatch(/^usage: slimlab <command> \[options\]\n/);
      for (const command of ['serve', 'admin create-user', 'login', 'whoami', 'run <pipeline.yaml>', 'profile <architecture>', 'export <candidate>', 'dataset upload', 'worker']) {
        expect(help.stdout()).toContain(`  slimlab ${command}`);
      }
    }
    for (const argv of [['export', '--help'], ['export', '-h'], ['help', 'export']]) {
      const help = capture();
      expect(await main(argv, help.io)).toBe(0);
      expect(help.stdout()).toContain('  slimlab export <candidate> --onnx out.onnx');
      expect(help.stdout()).not.toContain('slimlab profile');
    }
    const version = capture();
    expect(await main(['--version'], version.io)).toBe(0);
    expect(version.stdout()).toBe(`slimlab ${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`);

    const bare = capture();
    expect(await main([], bare.io)).toBe(2);
    expect(bare.stderr()).toContain('usage: slimlab <command> [options]');
  });

  it('answers a mistyped command or option with a usage line and a suggestion', async () => {
    const cases: [string[], string][] = [
      [['expotr', 'c1'], 'slimlab: unknown command "expotr"; did you mean export?\nusage: slimlab <command> [options]\nrun slimlab --help for the commands\n'],
      [['export', 'c1', '--onxx', 'o.onnx'], 'slimlab: unknown option --onxx; did you mean --onnx?\nusage: slimlab export <candidate> --onnx out.onnx [--bn folded|running]\nrun slimlab export --help for more\n'],
      [['profile', 'mbv2-fmnist', '--chanels', '8'], 'slimlab: unknown option --chanels; did you mean --channels?\n'],
      [['profile', 'mbv2-fmnist', '--onnx', 'o.onnx'], 'slimlab: profile takes no --onnx\nusage: slimlab profile <architecture>'],
      [['profile', 'mbv2-fmnist', '--convention'], 'slimlab: --convention needs a value\n'],
      [['run', '-x', 'p.yaml'], 'slimlab: unknown option -x\nusage: slimlab run <pipeline.yaml>\n'],
      [['deploy'], 'slimlab: unknown command "deploy"\nusage: slimlab <command> [options]\n'],
      [['help', 'expotr'], 'slimlab: unknown command "expotr"; did you mean export?\n'],
    ];
    for (const [argv, message] of cases) {
      const bad = capture();
      expect(await main(argv, bad.io)).toBe(2);
      expect(bad.stderr()).toContain(message);
      expect(bad.stderr()).not.toContain('To specify a positional argument');
    }
  });

  it('checks the worker command line before starting anything', async () => {
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [['worker'], {}, 'worker needs --server URL[,URL...]'],
      [['worker', '--server', 'ftp://host'], { SLIMLAB_WORKER_TOKEN: 'x'.repeat(32) }, '--server: "ftp://host" is not an http(s) URL'],
      [['worker', '--server', 'http://127.0.0.1:1'], {}, 'worker needs a token: --token T or SLIMLAB_WORKER_TOKEN'],
      [['worker', '--server', 'http://127.0.0.1:1', '--plugins', 'tfjs,cuda'], { SLIMLAB_WORKER_TOKEN: 'x'.repeat(32) }, '--plugins: "cuda" is not one of tfjs, onnx, latency'],
      [['worker', '--server', 'http://127.0.0.1:1', '--concurrency', '0'], { SLIMLAB_WORKER_TOKEN: 'x'.repeat(32) }, '--concurrency must be an integer from 1 to 64'],
    ];
    for (const [argv, env, message] of cases) {
      const bad = capture(env);
      expect(await main(argv, bad.io)).toBe(2);
      expect(bad.stderr()).toContain(message);
    }
  });

  it('exits with the command code as a process', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'run'], { encoding: 'utf8' });
    expect(child.status).toBe(2);
    expect(child.stderr).toContain('run takes 1 argument (got 0)');
  });
});
