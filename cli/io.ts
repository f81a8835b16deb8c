import { readSecret } from './secret';

/** Where a command writes: results to `out`, progress and diagnostics to `err`. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads a secret (a token) from standard input, without echo on a terminal. */
  readSecret(prompt: string): Promise<string>;
  /** Whether `err` is a terminal, where a progress bar can redraw itself in place. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  readSecret,
  interactive: process.stderr.isTTY === true,
  env: process.env,
};
