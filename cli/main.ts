import { parseArgs } from 'node:util';
import { Api, serverUrl } from './api';
import { runAdmin } from './commands/admin';
import { uploadDataset, uploadRequest } from './commands/dataset';
import { exportCandidate, exportRequest } from './commands/export';
import { login, logout } from './commands/login';
import { printProfile, profileRequest } from './commands/profile';
import { runPipeline } from './commands/run';
import { runWorker, workerRequest } from './commands/worker';
import { findCredential } from './credentials';
import { CliError, usageError } from './errors';
import { processIo, type Io } from './io';

const USAGE = `usage: slimlab <command> [options]

commands:
  serve                         start the server (configured by SLIMLAB_* variables, see server/config.ts)
  admin create-user NAME [--admin] [--no-password]
                                add a user to the server's database (SLIMLAB_DATABASE_URL); the
                                password is read from stdin
  admin create-token USER --scope read,write[,admin,worker] [--name N] [--expires-days N]
                                print a new API token for USER (shown once)
  admin add-member PROJECT USER --role viewer|editor|owner
                                give USER a role in the project named PROJECT
  login                         read an API token from stdin (no echo on a terminal), check it with the
                                server and store it for that server in $XDG_CONFIG_HOME/slimlab/credentials.json
  logout                        forget the token stored for the server
  run <pipeline.yaml>           train a supernet, slim it, retrain the results, print the leaderboard
  profile <architecture>        MACs and params per layer
      [--channels 1,2,3] [--input-size N] [--convention reference|mmcv]
  export <candidate> --onnx out.onnx
      [--bn folded|running] [--run <retrain run id> | --supernet <id>] [--calibration-images N]
                                the candidate as a standalone ONNX file with recalibrated BN
  dataset upload <folder | .tar | .tar.gz> --project <name or id> --name <name>
      [--search-fraction F] [--split-seed N] [--skip-corrupt]
                                upload an IDX folder or an image folder (train/<class>/…) and
                                register it; prints the dataset's id and shape
  worker --server URL[,URL...] [--token T] [--plugins tfjs,onnx,latency] [--concurrency N]
      [--work-dir DIR] [--dataset-root DIR]
                                run executor plugins for a server reached over HTTP (token also
                                from SLIMLAB_WORKER_TOKEN, else an API token with the worker scope
                                found as below); SIGTERM hands running jobs back

options:
  --server URL                  the slimlab server (default: SLIMLAB_URL, else http://127.0.0.1:4000)
  --token TOKEN                 the API token (default: SLIMLAB_TOKEN, else the one \`slimlab login\` stored
                                for the server; a server in local mode needs none)
  --help                        this text
`;

const OPTIONS = {
  server: { type: 'string' },
  channels: { type: 'string' },
  'input-size': { type: 'string' },
  convention: { type: 'string' },
  onnx: { type: 'string' },
  bn: { type: 'string' },
  run: { type: 'string' },
  supernet: { type: 'string' },
  'calibration-images': { type: 'string' },
  token: { type: 'string' },
  plugins: { type: 'string' },
  concurrency: { type: 'string' },
  'work-dir': { type: 'string' },
  'dataset-root': { type: 'string' },
  project: { type: 'string' },
  name: { type: 'string' },
  'search-fraction': { type: 'string' },
  'split-seed': { type: 'string' },
  'skip-corrupt': { type: 'boolean' },
  admin: { type: 'boolean' },
  'no-password': { type: 'boolean' },
  scope: { type: 'string' },
  'expires-days': { type: 'string' },
  role: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Runs one command line; returns the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let api: Api | null = null;
  try {
    const { values, positionals } = parseCommandLine(argv);
    const [command, ...rest] = positionals;
    if (values.help || command === undefined) {
      io.out(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'serve') {
      expectArguments(command, rest, 0);
      // Loading server/main starts the server; it keeps the process alive until SIGINT or SIGTERM.
      require('../server/main');
      return 0;
    }
    if (command === 'admin') {
      await runAdmin(rest, values, io);
      return 0;
    }
    if (command === 'worker') {
      expectArguments(command, rest, 0);
      await runWorker(workerRequest(values, io.env), io);
      return 0;
    }
    const server = serverUrl(values.server, io.env);
    if (command === 'login') {
      expectArguments(command, rest, 0);
      if (values.token !== undefined) throw usageError('login reads the token from standard input, not --token (every user can see a command line in `ps`)');
      await login(server, io);
      return 0;
    }
    if (command === 'logout') {
      expectArguments(command, rest, 0);
      logout(server, io);
      return 0;
    }
    api = new Api(server, findCredential(values.token, io.env, server));
    switch (command) {
      case 'run':
        await runPipeline(api, io, expectArguments(command, rest, 1)[0]!);
        return 0;
      case 'profile':
        await printProfile(api, io, profileRequest(expectArguments(command, rest, 1)[0]!, values));
        return 0;
      case 'export':
        await exportCandidate(api, io, exportRequest(expectArguments(command, rest, 1)[0]!, values));
        return 0;
      case 'dataset': {
        const [action, path] = expectArguments(command, rest, 2);
        if (action !== 'upload') throw usageError(`unknown dataset command "${action}"; the one there is: dataset upload`);
        await uploadDataset(api, io, uploadRequest(path!, values));
        return 0;
      }
      default:
        throw usageError(`unknown command "${command}"; run slimlab --help`);
    }
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.err(`slimlab: ${error.message}\n`);
    return error.exitCode;
  } finally {
    await api?.close();
  }
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

function expectArguments(command: string, rest: readonly string[], count: number): readonly string[] {
  if (rest.length !== count) throw usageError(`${command} takes ${count} argument${count === 1 ? '' : 's'} (got ${rest.length}); run slimlab --help`);
  return rest;
}

/** The process entry point: runs argv and exits with the command's code. */
export function runAsProcess(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (error: unknown) => {
      console.error('slimlab: unexpected failure:', error);
      process.exit(1);
    },
  );
}

if (require.main === module) runAsProcess();
