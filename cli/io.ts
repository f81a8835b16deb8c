/** Where a command writes: results to `out`, progress and diagnostics to `err`. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` is a terminal, where a progress bar can redraw itself in place. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
  env: process.env,
};
