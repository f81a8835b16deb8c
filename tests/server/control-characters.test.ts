import { DATABASES } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { TestServer } from '../support/server';

const CREATE_PROJECT = `mutation($n: String!, $d: String) { createProject(input: { name: $n, description: $d }) { id name description } }`;

describe.each(DATABASES)('control characters and oversized text on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start(kind);
  });

  afterAll(async () => {
    await server.stop();
  });

  it.each([0x00, 0x07, 0x1b, 0x0a, 0x09, 0x7f, 0x85])('rejects a name containing the control character with code %i, naming the field', async (code) => {
    const control = String.fromCharCode(code);
    expect(await server.gqlError(CREATE_PROJECT, { n: `a${control}b` })).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.name' },
    });
  });

  it('rejects control characters in every kind of name', async () => {
    const { projectId, datasetId, space } = await seedProject(server, 'names');
    expect(
      await server.gqlError(`mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "d\\u0000", format: SYNTHETIC, synthetic: {} }) { id } }`, { p: projectId }),
    ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.name' } });
    expect(
      await server.gqlError(`mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "s\\u0000", architecture: "mbv2-fmnist" }) { id } }`, { p: projectId }),
    ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.name' } });
    expect(
      await server.gqlError(`mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "n\\u0000", searchSpaceId: $s, datasetId: $d }) { id } }`, { s: space.id, d: datasetId }),
    ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.name' } });
    expect(
      await server.gqlError(
        `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "c", format: SYNTHETIC, classNames: ["a", "b\\u0000", "c", "d"],
          synthetic: { numClasses: 4 } }) { id } }`,
        { p: projectId },
      ),
    ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.classNames[1]' } });
    expect(
      await server.gqlError(`mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "p", format: IDX, path: "/tmp/\\u0000" }) { id } }`, { p: projectId }),
    ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.path' } });
  });

  it('keeps tabs and newlines in a description but rejects other control characters', async () => {
    const { createProject } = await server.gql(CREATE_PROJECT, { n: 'described', d: ' line one\n\tline two ' });
    expect(createProject.description).toBe('line one\n\tline two');
    expect(await server.gqlError(CREATE_PROJECT, { n: 'nul', d: 'a\u0000b' })).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.description' },
    });
  });

  it('caps a description at 10,000 characters', async () => {
    const { createProject } = await server.gql(CREATE_PROJECT, { n: 'long', d: 'x'.repeat(10_000) });
    expect(createProject.description).toHaveLength(10_000);
    // (A 1 MB one no longer reaches the check: the request body limit refuses it first.)
    expect(await server.gqlError(CREATE_PROJECT, { n: 'too long', d: 'x'.repeat(10_001) })).toMatchObject({
      message: 'input.description: must be at most 10000 characters (got 10001)',
      extensions: { code: 'BAD_USER_INPUT', field: 'input.description' },
    });
  });
});
