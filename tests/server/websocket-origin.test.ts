import WebSocket from 'ws';
import { TestServer } from '../support/server';

/** Opens the API's WebSocket with the given Origin header; resolves with how the upgrade ended. */
function upgrade(url: string, origin: string | undefined): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', origin === undefined ? {} : { origin });
    const timer = setTimeout(() => reject(new Error('no answer to the upgrade within 10 s')), 10_000);
    socket.once('open', () => {
      clearTimeout(timer);
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        // Refusals are the API's JSON errors, not a bare text page.
        if (res.headers['content-type'] !== 'application/json') reject(new Error(`refused with ${res.headers['content-type']}`));
        else if ((JSON.parse(Buffer.concat(chunks).toString()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code !== 'FORBIDDEN') reject(new Error('not FORBIDDEN'));
        else resolve(res.statusCode ?? 0);
        socket.terminate();
      });
    });
    socket.once('error', () => undefined);
  });
}

/** Cross-site WebSocket hijacking: a page on another site must not open the API's socket. */
describe('the WebSocket upgrade checks Origin', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [], undefined, { allowedOrigins: ['http://dev.example:5173'] });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('refuses a page of another origin, before any operation runs', async () => {
    expect(await upgrade(server.url, 'http://evil.example')).toBe(403);
    expect(await upgrade(server.url, 'null')).toBe(403);
    expect(await upgrade(server.url, `http://127.0.0.1:${server.server.port + 1}`)).toBe(403);
    const { projects } = await server.gql(`{ projects { id } }`);
    expect(projects).toEqual([]);
  });

  it('accepts the web app it serves, an allowed origin, and clients that send no Origin', async () => {
    expect(await upgrade(server.url, server.url)).toBe('open');
    expect(await upgrade(server.url, 'http://dev.example:5173')).toBe('open');
    expect(await upgrade(server.url, undefined)).toBe('open');
  });
});
