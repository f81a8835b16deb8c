/** One command of the CLI: how it is called, what it does, and the options it takes. */
export interface CommandUsage {
  readonly name: string;
  /** The call, after `slimlab `; continuation lines are indented in the help. */
  readonly synopsis: readonly string[];
  readonly summary: readonly string[];
  readonly options: readonly string[];
}

export const COMMANDS: readonly CommandUsage[] = [
  { name: 'serve', synopsis: ['serve'], summary: ['start the server (configured by SLIMLAB_* variables, see the README)'], options: [] },
  {
    name: 'admin',
    synopsis: [
      'admin create-user NAME [--admin] [--no-password]',
      'admin create-token USER --scope read,write[,admin,worker] [--name N] [--expires-days N]',
      'admin add-member PROJECT USER --role viewer|editor|owner',
    ],
    summary: [
      "add a user (the password is read from stdin), print a new API token for USER (shown once), or give",
      "USER a role in the project named PROJECT; works on the server's database (SLIMLAB_DATABASE_URL)",
    ],
    options: ['admin', 'no-password', 'scope', 'name', 'expires-days', 'role'],
  },
  {
    name: 'login',
    synopsis: ['login'],
    summary: [
      'read an API token from stdin (no echo on a terminal), check it with the server and store it',
      'for that server in $XDG_CONFIG_HOME/slimlab/credentials.json',
    ],
    options: [],
  },
  { name: 'logout', synopsis: ['logout'], summary: ['forget the token stored for the server'], options: [] },
  { name: 'whoami', synopsis: ['whoami'], summary: ['who the server takes you for, with the token found as below'], options: [] },
  {
    name: 'run',
    synopsis: ['run <pipeline.yaml>'],
    summary: ['train a supernet, slim it, retrain the results, print the leaderboard and the verdicts'],
    options: [],
  },
  {
    name: 'profile',
    synopsis: ['profile <architecture> [--channels 1,2,3] [--input-size N] [--convention reference|mmcv]'],
    summary: ['MACs and params per layer, computed here: no server needed'],
    options: ['channels', 'input-size', 'convention'],
  },
  {
    name: 'export',
    synopsis: ['export <candidate> --onnx out.onnx [--bn folded|running]', '    [--run <retrain run id> | --supernet <id>] [--calibration-images N]'],
    summary: [
      'the candidate as a standalone ONNX file with recalibrated BN; a uniform or imported candidate',
      'has no supernet of its own: name one with --supernet',
    ],
    options: ['onnx', 'bn', 'run', 'supernet', 'calibration-images'],
  },
  {
    name: 'dataset',
    synopsis: ['dataset upload <folder | .tar | .tar.gz> --project <name or id> --name <name>', '    [--search-fraction F] [--split-seed N] [--skip-corrupt]'],
    summary: ["upload an IDX folder or an image folder (train/<class>/…) and register it; prints the dataset's id and shape"],
    options: ['project', 'name', 'search-fraction', 'split-seed', 'skip-corrupt'],
  },
  {
    name: 'worker',
    synopsis: ['worker --server URL[,URL...] [--token T] [--plugins tfjs,onnx,latency] [--concurrency N]', '    [--work-dir DIR] [--dataset-root DIR]'],
    summary: [
      'run executor plugins for a server reached over HTTP (token also from SLIMLAB_WORKER_TOKEN, else',
      'an API token with the worker scope found as below); SIGTERM hands running jobs back',
    ],
    options: ['plugins', 'concurrency', 'work-dir', 'dataset-root'],
  },
];

/** Options every command takes. */
export const GLOBAL_OPTIONS = ['server', 'token', 'help', 'version'] as const;

const GLOBAL_HELP = `options:
  --server URL        the slimlab server (default: SLIMLAB_URL, else http://127.0.0.1:4000)
  --token TOKEN       the API token (default: SLIMLAB_TOKEN, else the one \`slimlab login\` stored
                      for the server; a server in local mode needs none)
  -h, --help          this text; \`slimlab <command> --help\` for one command
  --version           the version of slimlab
`;

export function commandNamed(name: string | undefined): CommandUsage | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The one-line reminder printed above a usage error. */
export function usageLine(command: CommandUsage | undefined): string {
  return command ? `usage: slimlab ${command.synopsis[0]}` : 'usage: slimlab <command> [options]';
}

export function fullHelp(): string {
  const commands = COMMANDS.map(describe).join('');
  return `${usageLine(undefined)}\n\ncommands:\n${commands}\n${GLOBAL_HELP}`;
}

export function commandHelp(command: CommandUsage): string {
  return `usage:\n${describe(command)}\n${GLOBAL_HELP}`;
}

function describe(command: CommandUsage): string {
  const call = command.synopsis.map((line) => (line.startsWith(' ') ? `        ${line.trim()}\n` : `  slimlab ${line}\n`)).join('');
  return call + command.summary.map((line) => `            ${line}\n`).join('');
}
