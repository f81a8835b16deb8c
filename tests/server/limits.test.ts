import { request } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadLimits } from '../../server/config';
import { RateLimiter } from '../../server/limits/rate-limit';
import { DATABASES } from '../support/databases';
import { TestServer, type GraphQLErrorShape } from '../support/server';

interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A POST to /graphql from a chosen loopback address: the rate limit tells clients apart by it. */
function post(server: TestServer, body: string, localAddress = '127.0.0.1', path = '/graphql'): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const postQuery = (server: TestServer, query: string, localAddress?: string) => post(server, JSON.stringify({ query }), localAddress);

function errorsOf(reply: HttpReply): GraphQLErrorShape[] {
  const body = JSON.parse(reply.text) as { data?: unknown; errors?: GraphQLErrorShape[] };
  // Refused before execution: no data at all, not even null fields.
  expect(body).not.toHaveProperty('data');
  return body.errors ?? [];
}

/** What graphql-ws delivers for one operation: its first result or its error. */
function overWebSocket(server: TestServer, query: string): Promise<{ data?: unknown; errors?: readonly GraphQLErrorShape[] }> {
  const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query },
      {
        next: (result) => resolve(result as { data?: unknown }),
        error: (error) => (Array.isArray(error) ? resolve({ errors: error as GraphQLErrorShape[] }) : reject(error as Error)),
        complete: () => undefined,
      },
    );
  }).finally(() => client.dispose()) as Promise<{ data?: unknown; errors?: readonly GraphQLErrorShape[] }>;
}

/** supernet → trajectories → candidates → trajectory → supernet …, `levels` fields deep. */
function supernetLoop(levels: number): string {
  const cycle = ['trajectories', 'candidates', 'trajectory', 'supernet'];
  let selection = 'id';
  for (let level = levels - 2; level >= 1; level--) selection = `${cycle[(level - 1) % 4]} { ${selection} }`;
  return `{ supernet(id: "00000000-0000-0000-0000-000000000000") { ${selection} } }`;
}

const code = (error: GraphQLErrorShape | undefined) => error?.extensions?.code;

describe.each(DATABASES)('API limits on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start(kind);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('refuses the supernet/trajectory loop by its depth, over HTTP and WebSocket, without running it', async () => {
    const query = supernetLoop(20);
    const reply = await postQuery(server, query);
    expect(reply.status).toBe(400);
    const [error] = errorsOf(reply);
    expect(error).toMatchObject({ extensions: { code: 'QUERY_TOO_DEEP', limit: 'SLIMLAB_MAX_QUERY_DEPTH', max: 15 } });
    expect(error!.message).toContain('20 levels deep');
    // Executing it would have answered NOT_FOUND for the supernet: nothing ran.
    expect(code((await overWebSocket(server, query)).errors?.[0])).toBe('QUERY_TOO_DEEP');
  });

  it('refuses nested lists whose estimated cost is over the limit, though shallow enough', async () => {
    const query = '{ projects { supernets { trajectories { candidates { runs { id status } } } } } }';
    const [error] = errorsOf(await postQuery(server, query));
    expect(error).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'SLIMLAB_MAX_QUERY_COMPLEXITY' } });
    expect((error!.extensions as { complexity: number }).complexity).toBeGreaterThan(20_000);
  });

  it('refuses 1,000 aliases of profile { perLayer }', async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `p${i}: profile(architecture: "resnet-50") { perLayer { name macs } }`);
    const errors = errorsOf(await postQuery(server, `{ ${aliases.join(' ')} }`));
    expect(errors.map(code)).toContain('QUERY_TOO_LARGE');
    expect(errors.find((e) => e.message.includes('SLIMLAB_MAX_ALIASES'))?.message).toContain('uses 1000 aliases');
  });

  it('refuses too many root fields, too many fields, and fragments that double level after level', async () => {
    const roots = errorsOf(await postQuery(server, `{ ${'__typename '.repeat(100)} }`));
    expect(roots.map((e) => e.message).join()).toContain('SLIMLAB_MAX_ROOT_FIELDS');
    const wide = errorsOf(await postQuery(server, `{ projects { ${'__typename '.repeat(3000)} } }`));
    expect(wide.map((e) => e.message).join()).toContain('selects 3001 fields');
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`);
    const doubling = `{ ...F40 } fragment F0 on Query { __typename } ${fragments.join(' ')}`;
    expect(errorsOf(await postQuery(server, doubling)).map((e) => e.message).join()).toContain('SLIMLAB_MAX_FIELDS');
  });

  it('refuses a 9.9 MB query by the body limit, and a long one under it by the length limit', async () => {
    const huge = await postQuery(server, `{ ${'__typename '.repeat(900_000)} }`);
    expect(huge.status).toBe(413);
    expect(huge.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(huge.text)).toEqual({ errors: [{ message: expect.stringContaining('SLIMLAB_MAX_REQUEST_KB'), extensions: { code: 'BAD_REQUEST' } }] });

    const long = errorsOf(await postQuery(server, `{ ${'__typename '.repeat(20_000)} }`));
    expect(long).toEqual([expect.objectContaining({ extensions: { code: 'QUERY_TOO_LARGE', limit: 'SLIMLAB_MAX_QUERY_CHARS', max: 100_000 } })]);
  });

  it('closes a WebSocket that sends a 20 MB message with 1009, and keeps answering', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.on('close', (closeCode) => resolve(closeCode)));
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve() : undefined));
      socket.on('error', reject);
    });
    const query = `{ ${'__typename '.repeat(Math.ceil((20 * 1024 * 1024) / 11))} }`;
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    expect(await closed).toBe(1009);

    expect(await server.gql('{ __typename }')).toEqual({ __typename: 'Query' });
    expect((await overWebSocket(server, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('answers malformed JSON, and any route that fails, with a JSON error and no stack or paths', async () => {
    const malformed = await post(server, '{"query": "{ __typename }", ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(malformed.text)).toEqual({ errors: [{ message: 'the request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });

    const badParam = await fetch(`${server.url}/artifacts/%E0%A4%A`);
    const failed = { status: badParam.status, type: badParam.headers.get('content-type'), text: await badParam.text() };
    const missing = await post(server, '{}', '127.0.0.1', '/no-such-route');
    for (const reply of [failed, { ...missing, type: missing.headers['content-type'] }]) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.type).toMatch(/^application\/json/);
      expect(JSON.parse(reply.text)).toHaveProperty('errors');
    }
    for (const text of [malformed.text, failed.text, missing.text]) {
      expect(text).not.toMatch(/<html|<pre|\bat \S+ \(|node_modules|\/work\/|SyntaxError/i);
    }
  });

  it('still answers the queries clients send: a profile per layer, a leaderboard page, and introspection', async () => {
    const { profile } = await server.gql('{ profile(architecture: "resnet-50") { macs params perLayer { name op macs params } } }');
    expect(profile.perLayer.length).toBeGreaterThan(10);
    await server.gql('{ candidates(first: 500) { totalCount edges { cursor node { id macs params channels searchAccuracy source } } pageInfo { endCursor hasNextPage } } }');
    expect((await server.gql(getIntrospectionQuery())).__schema.queryType).toMatchObject({ name: 'Query' });
  });
});

describe.each(DATABASES)('mutation rate limit on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    // Three at once, then one every 1000 s: the fourth is refused however slowly the test runs.
    server = await TestServer.start(kind, [], undefined, { limits: { ...loadLimits({}), mutationBurst: 3, mutationsPerSecond: 0.001 } });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a client over its budget with RATE_LIMITED and retryAfter, and no other client or query', async () => {
    const mutation = (name: string) => `mutation { createProject(input: { name: "${name}" }) { id } }`;
    for (const name of ['a', 'b', 'c']) expect((await postQuery(server, mutation(name))).status).toBe(200);

    const refused = await postQuery(server, mutation('d'));
    expect(refused.status).toBe(429);
    const [error] = errorsOf(refused);
    expect(error).toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } });
    const retryAfter = (error!.extensions as { retryAfter: number }).retryAfter;
    expect(retryAfter).toBeGreaterThan(0);
    expect(refused.headers['retry-after']).toBe(String(retryAfter));
    // The budget is the client's, whatever the transport.
    expect(code((await overWebSocket(server, mutation('e'))).errors?.[0])).toBe('RATE_LIMITED');

    expect((await server.gql('{ projects { name } }')).projects).toHaveLength(3);
    const other = await postQuery(server, mutation('from another address'), '127.0.0.2');
    expect(JSON.parse(other.text)).toEqual({ data: { createProject: { id: expect.any(String) } } });
  });
});

describe('token bucket', () => {
  it('lets a burst through, then one per refill interval', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeCloseTo(0.5);
    expect(limiter.take('b')).toBe(0);
    now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeCloseTo(0.5);
  });
});
