import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { usageError } from './errors';

/** The server's API token format: `slm_` and 43 base64url characters (256 bits). */
const TOKEN = /^slm_[A-Za-z0-9_-]{43}$/;

/** A token and where it came from, so that an error can say which one to fix, never what it is. */
export interface Credential {
  readonly token: string;
  /** Completes "the token …": "from --token", "from SLIMLAB_TOKEN", "stored by `slimlab login`". */
  readonly source: string;
}

/** `$XDG_CONFIG_HOME/slimlab/credentials.json`; the XDG spec says a relative XDG_CONFIG_HOME is ignored. */
export function credentialsFile(env: NodeJS.ProcessEnv): string {
  const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(config, 'slimlab', 'credentials.json');
}

/** Tokens are stored per server: its origin and path, without a trailing slash. */
export function serverKey(server: URL): string {
  return `${server.origin}${server.pathname.replace(/\/+$/, '')}`;
}

/**
 * The token for requests to `server`: --token, else SLIMLAB_TOKEN, else the one `slimlab login`
 * stored for that server; null when there is none (a server in local mode needs none).
 */
export function findCredential(flag: string | undefined, env: NodeJS.ProcessEnv, server: URL): Credential | null {
  if (flag !== undefined) return checkToken(flag, 'from --token');
  if (env.SLIMLAB_TOKEN) return checkToken(env.SLIMLAB_TOKEN, 'from SLIMLAB_TOKEN');
  const stored = readStored(env)[serverKey(server)];
  return stored === undefined ? null : checkToken(stored, `stored by \`slimlab login\` in ${credentialsFile(env)}`);
}

/** Rejects what cannot be a token before it is sent anywhere; the message leaves the value out. */
export function checkToken(raw: string, source: string): Credential {
  const token = raw.trim();
  if (!TOKEN.test(token)) throw usageError(`the token ${source} is not a slimlab API token (slm_ followed by 43 letters, digits, - or _)`);
  return { token, source };
}

export function storeToken(env: NodeJS.ProcessEnv, server: URL, token: string): void {
  writeStored(env, { ...readStored(env), [serverKey(server)]: token });
}

/** Whether there was a token to forget. */
export function forgetToken(env: NodeJS.ProcessEnv, server: URL): boolean {
  const { [serverKey(server)]: forgotten, ...rest } = readStored(env);
  if (forgotten === undefined) return false;
  writeStored(env, rest);
  return true;
}

function readStored(env: NodeJS.ProcessEnv): Record<string, string> {
  const file = credentialsFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw usageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    entries = null;
  }
  // The contents are never quoted in the message: they are tokens.
  const valid = typeof entries === 'object' && entries !== null && !Array.isArray(entries) && Object.values(entries).every((t) => typeof t === 'string');
  if (!valid) throw usageError(`${file} is not a JSON object of server URLs and tokens; delete it and run \`slimlab login\` again`);
  return entries as Record<string, string>;
}

/**
 * Owner-only from the first byte (the mode is set when the file is created, not after), and
 * atomic: a rename replaces the old file whole, so a crash never leaves half a file of tokens.
 */
function writeStored(env: NodeJS.ProcessEnv, entries: Record<string, string>): void {
  const file = credentialsFile(env);
  const dir = dirname(file);
  const temp = join(dir, `.credentials.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A folder made before (by hand, or by an older slimlab) may be readable by others.
    chmodSync(dir, 0o700);
    writeFileSync(temp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw usageError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
