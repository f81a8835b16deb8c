import { Api, ApiError } from '../api';
import { checkToken, forgetToken, serverKey, storeToken } from '../credentials';
import { CliError } from '../errors';
import type { Io } from '../io';

interface Viewer {
  id: string;
  name: string;
  admin: boolean;
}

/** `slimlab login`: reads a token from stdin, checks it with the server, and stores it for that server. */
export async function login(server: URL, io: Io): Promise<void> {
  const key = serverKey(server);
  const credential = checkToken(await io.readSecret(`API token for ${key}: `), 'read from standard input');
  let viewer: Viewer;
  try {
    ({ viewer } = await new Api(server, credential).request<{ viewer: Viewer }>('{ viewer { id name admin } }'));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'GRAPHQL_VALIDATION_FAILED') throw new CliError(`${key} does not know API tokens (it has no viewer query); nothing was stored`);
    throw error;
  }
  storeToken(io.env, server, credential.token);
  io.out(`signed in to ${key} as ${viewer.name}\n`);
  if (io.env.SLIMLAB_TOKEN) io.err('note: SLIMLAB_TOKEN is set, and is used before the stored token\n');
}

/** `slimlab logout`: forgets the stored token; the server still accepts it until it expires or is revoked. */
export function logout(server: URL, io: Io): void {
  const key = serverKey(server);
  io.out(forgetToken(io.env, server) ? `signed out of ${key}\n` : `no token stored for ${key}\n`);
}

/** `slimlab whoami`: who the server takes the caller for, with the token the CLI would use. */
export async function whoami(api: Api, server: URL, io: Io): Promise<void> {
  const { viewer } = await api.request<{ viewer: Viewer }>('{ viewer { id name admin } }');
  io.out(`${viewer.name}${viewer.admin ? ' (admin)' : ''} on ${serverKey(server)}\n`);
}
