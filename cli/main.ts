import { parseArgs } from 'node:util';
import { Api, serverUrl } from './api';
import { runAdmin } from './commands/admin';
import { uploadDataset, uploadRequest } from './commands/dataset';
import { exportCandidate, exportRequest } from './commands/export';
import { login, logout, whoami } from './commands/login';
import { printProfile, profileRequest } from './commands/profile';
import { runPipeline } from './commands/run';
import { runWorker, workerRequest } from './commands/worker';
import { findCredential } from './credentials';
import { CliError, usageError } from './errors';
import { processIo, type Io } from './io';
import { closest } from './suggest';
import { COMMANDS, GLOBAL_OPTIONS, commandHelp, commandNamed, fullHelp, usageLine, type CommandUsage } from './usage';
import { slimlabVersion } from './version';

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
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** Runs one command line; returns the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let api: Api | null = null;
  try {
    const { values, positionals } = parseCommandLine(argv);
    const [command, ...rest] = positionals;
    if (values.version) {
      io.out(`slimlab ${slimlabVersion()}\n`);
      return 0;
    }
    if (command === 'help' || (values.help && command === undefined)) {
      const asked = commandNamed(rest[0]);
      if (rest[0] !== undefined && !asked) throw unknownCommand(rest[0]);
      io.out(asked ? commandHelp(asked) : fullHelp());
      return 0;
    }
    if (command === undefined) {
      io.err(fullHelp());
      return 2;
    }
    const usage = commandNamed(command);
    if (!usage) throw unknownCommand(command);
    if (values.help) {
      io.out(commandHelp(usage));
      return 0;
    }
    checkOptions(usage, values);
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
    if (command === 'profile') {
      // Counted here by autoslim/: no server is needed.
      printProfile(io, profileRequest(expectArguments(command, rest, 1)[0]!, values));
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
      case 'whoami':
        expectArguments(command, rest, 0);
        await whoami(api, server, io);
        return 0;
      case 'run':
        await runPipeline(api, io, expectArguments(command, rest, 1)[0]!);
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
        throw new Error(`slimlab: command ${command} is listed in usage.ts but not run`);
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
  // Not strict: parseArgs' own messages name no command and suggest nothing; the tokens let
  // checkOptions and this say what went wrong in the user's terms.
  const parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const command = commandNamed(parsed.positionals[0]);
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const option = OPTIONS[token.name as keyof typeof OPTIONS] as { type: 'string' | 'boolean' } | undefined;
    if (!option) {
      const known = [...GLOBAL_OPTIONS, ...(command?.options ?? Object.keys(OPTIONS))];
      const guess = closest(token.name, known);
      throw optionError(command, `unknown option ${token.rawName}${guess ? `; did you mean --${guess}?` : ''}`);
    }
    if (option.type === 'string' && token.value === undefined) throw optionError(command, `${token.rawName} needs a value`);
    if (option.type === 'boolean' && token.value !== undefined) throw optionError(command, `${token.rawName} takes no value (got "${token.value}")`);
  }
  return parsed as unknown as { values: Values; positionals: string[] };
}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** An option that exists, but not for this command (often a typo of one that does). */
function checkOptions(command: CommandUsage, values: Values): void {
  const allowed: readonly string[] = [...GLOBAL_OPTIONS, ...command.options];
  for (const name of Object.keys(values)) {
    if (allowed.includes(name)) continue;
    const guess = closest(name, command.options);
    throw optionError(command, `${command.name} takes no --${name}${guess ? `; did you mean --${guess}?` : ''}`);
  }
}

function optionError(command: CommandUsage | undefined, problem: string) {
  return usageError(`${problem}\n${usageLine(command)}\nrun slimlab ${command ? `${command.name} ` : ''}--help for more`);
}

function unknownCommand(name: string) {
  const guess = closest(name, COMMANDS.map((c) => c.name));
  return usageError(`unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''}\n${usageLine(undefined)}\nrun slimlab --help for the commands`);
}

function expectArguments(command: string, rest: readonly string[], count: number): readonly string[] {
  if (rest.length !== count) {
    throw optionError(commandNamed(command), `${command} takes ${count} argument${count === 1 ? '' : 's'} (got ${rest.length})`);
  }
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
