import type { IncomingMessage } from 'node:http';

/**
 * Access policy of the WebSocket upgrade against cross-site WebSocket hijacking: browsers send
 * the page's Origin and let any page open a socket to any server, with the user's cookies. So a
 * browser may connect only from the server's own origin (the web app it serves) or an origin the
 * operator allows; clients that are not browsers (the CLI, notebooks) send no Origin and pass.
 */
export function verifyWebSocketOrigin(allowed: readonly string[]) {
  const isAllowed = allowedOrigin(allowed);
  return (
    info: { origin: string | undefined; req: IncomingMessage },
    answer: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void,
  ): void => {
    if (isAllowed(info)) answer(true);
    else answer(false, 403, REFUSED, { 'Content-Type': 'application/json' });
  };
}

// The API's JSON error shape, as every other refusal has.
const REFUSED = JSON.stringify({
  errors: [{ message: "this origin may not open the API's WebSocket (SLIMLAB_ALLOWED_ORIGINS)", extensions: { code: 'FORBIDDEN' } }],
});

function allowedOrigin(allowed: readonly string[]) {
  return ({ origin, req }: { origin: string | undefined; req: IncomingMessage }): boolean => {
    if (origin === undefined || origin === '') return true;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false;
    }
    if (allowed.includes(parsed.origin)) return true;
    // The same origin as the request: the page was served by this server, at the address it was reached by.
    return req.headers.host !== undefined && parsed.host === req.headers.host;
  };
}
