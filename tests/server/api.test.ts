import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { DATABASES } from '../support/databases';
import { JOB_FIELDS, seedProject, writeIdxDataset } from '../support/fixtures';
import { TestServer } from '../support/server';

describe.each(DATABASES)('GraphQL API on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start(kind);
  });

  afterAll(async () => {
    await server.stop();
  });

  describe('projects', () => {
    it('creates, lists and fetches projects', async () => {
      const { createProject } = await server.gql(`mutation { createProject(input: { name: " vision ", description: "d" }) { id name description createdAt } }`);
      expect(createProject).toMatchObject({ name: 'vision', description: 'd' });
      const { projects } = await server.gql(`{ projects { id name } }`);
      expect(projects).toContainEqual({ id: createProject.id, name: 'vision' });
      const { project } = await server.gql(`query($id: ID!) { project(id: $id) { name datasets { id } searchSpaces { id } supernets { id } } }`, {
        id: createProject.id,
      });
      expect(project).toEqual({ name: 'vision', datasets: [], searchSpaces: [], supernets: [] });
    });

    it('rejects an empty name, a duplicate name and an unknown id, naming the field', async () => {
      expect(await server.gqlError(`mutation { createProject(input: { name: "   " }) { id } }`)).toMatchObject({
        message: 'input.name: must not be empty',
        extensions: { code: 'BAD_USER_INPUT', field: 'input.name' },
      });
      await server.gql(`mutation { createProject(input: { name: "twice" }) { id } }`);
      expect(await server.gqlError(`mutation { createProject(input: { name: "twice" }) { id } }`)).toMatchObject({
        extensions: { code: 'CONFLICT', field: 'input.name' },
      });
      expect(await server.gqlError(`{ project(id: "00000000-0000-4000-8000-000000000000") { id } }`)).toMatchObject({
        extensions: { code: 'NOT_FOUND', field: 'id' },
      });
      expect(await server.gqlError(`{ project(id: "not-an-id") { id } }`)).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field: 'id' },
      });
    });
  });

  describe('datasets', () => {
    it('registers an IDX folder, reading its shape and carving a seeded search split', async () => {
      const { projectId } = await seedProject(server, 'idx');
      const path = writeIdxDataset(200, 50);
      const register = (name: string, seed: number) =>
        server.gql(
          `mutation($p: ID!, $path: String!, $n: String!, $s: Int!) { registerDataset(input: { projectId: $p, name: $n, format: IDX, path: $path, searchFraction: 0.25, splitSeed: $s }) {
            id format folder inputChannels inputHeight inputWidth numClasses trainSize testSize searchSize splitSeed splitDigest manifest { sha256 } } }`,
          { p: projectId, path, n: name, s: seed },
        );
      const { registerDataset: a } = await register('a', 7);
      expect(a).toMatchObject({ format: 'IDX', folder: basename(path), inputChannels: 1, inputHeight: 8, inputWidth: 8, numClasses: 10, trainSize: 200, testSize: 50, searchSize: 50 });
      expect(a.splitDigest).toMatch(/^[0-9a-f]{64}$/);
      const { registerDataset: b } = await register('b', 7);
      const { registerDataset: c } = await register('c', 8);
      expect(b.splitDigest).toBe(a.splitDigest);
      const { datasets } = await server.gql(`query($p: ID!) { datasets(projectId: $p) { name searchIndices } }`, { p: projectId });
      const indices: number[] = datasets.find((d: { name: string }) => d.name === 'a').searchIndices;
      expect(indices).toHaveLength(50);
      expect(indices).toEqual([...new Set(indices)].sort((x, y) => x - y));
      expect(Math.max(...indices)).toBeLessThan(200);
      // The digest covers the hold-out's indices, then the sample manifest they index.
      const indicesDigest = createHash('sha256').update(Buffer.from(Uint32Array.from(indices).buffer)).digest('hex');
      expect(createHash('sha256').update(indicesDigest).update(a.manifest.sha256).digest('hex')).toBe(a.splitDigest);
      expect(c.splitDigest).not.toBe(a.splitDigest);
      const { datasets: all } = await server.gql(`query($p: ID!) { datasets(projectId: $p) { name } }`, { p: projectId });
      expect(all.map((d: { name: string }) => d.name)).toEqual(['synthetic', 'a', 'b', 'c']);
    });

    it('rejects a missing folder, a bad fraction and a missing synthetic spec', async () => {
      const { projectId } = await seedProject(server, 'idx-bad');
      const error = (input: string) => server.gqlError(`mutation($p: ID!) { registerDataset(input: { projectId: $p, ${input} }) { id } }`, { p: projectId });
      expect(await error(`name: "x", format: IDX, path: "/nonexistent/folder"`)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.path' } });
      expect(await error(`name: "x", format: IDX, path: "/tmp"`)).toMatchObject({ extensions: { field: 'input.path' } });
      expect(await error(`name: "x", format: SYNTHETIC, searchFraction: 0.9, synthetic: {}`)).toMatchObject({ extensions: { field: 'input.searchFraction' } });
      expect(await error(`name: "x", format: SYNTHETIC`)).toMatchObject({ extensions: { field: 'input.synthetic' } });
      expect(await error(`name: "x", format: SYNTHETIC, synthetic: { trainSize: -5 }`)).toMatchObject({ extensions: { field: 'input.synthetic.trainSize' } });
      expect(await error(`name: "x", format: PNG`)).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    });
  });

  describe('search spaces and profiling', () => {
    it('derives the unit table and serves it back', async () => {
      const { space } = await seedProject(server, 'units');
      expect(space.maxChannels).toHaveLength(20);
      expect(space.units.length).toBeGreaterThan(5);
      for (const unit of space.units) {
        expect(unit.choices.at(-1)).toBe(unit.max);
        expect(unit.choices[0]).toBe(unit.min);
        expect(unit.choices.length).toBeLessThanOrEqual(12);
      }
      const { searchSpace } = await server.gql(`query($id: ID!) { searchSpace(id: $id) { architecture inputSize numClasses maxWidth groups divisor units { name } } }`, { id: space.id });
      const { searchSpaces } = await server.gql(`{ searchSpaces { id } }`);
      expect(searchSpaces).toContainEqual({ id: space.id });
      expect(searchSpace).toMatchObject({ architecture: 'mbv2-fmnist', inputSize: 28, numClasses: 10, maxWidth: 1, groups: 12, divisor: 8 });
    });

    it('applies per-unit overrides and rejects unknown units and architectures', async () => {
      const { projectId, space } = await seedProject(server, 'overrides');
      const unit = space.units[1].name;
      const { createSearchSpace } = await server.gql(
        `mutation($p: ID!, $u: String!) { createSearchSpace(input: { projectId: $p, name: "narrow", architecture: "mbv2-fmnist", maxWidth: 1.0, units: [{ unit: $u, groups: 2 }] }) { units { name choices } } }`,
        { p: projectId, u: unit },
      );
      expect(createSearchSpace.units[1].choices).toHaveLength(2);
      expect(
        await server.gqlError(`mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "x", architecture: "mbv2-fmnist", units: [{ unit: "nope" }] }) { id } }`, { p: projectId }),
      ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(
        await server.gqlError(`mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "x", architecture: "vgg" }) { id } }`, { p: projectId }),
      ).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.architecture' } });
      expect(
        await server.gqlError(`mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "x", architecture: "mbv2-fmnist", maxWidth: 3 }) { id } }`, { p: projectId }),
      ).toMatchObject({ extensions: { field: 'input.maxWidth' } });
    });

    it('profiles channel lists in both conventions', async () => {
      const { profile } = await server.gql(`{ profile(architecture: "mobilenet-v2") { macs params perLayer { name op macs } } }`);
      expect(profile).toMatchObject({ macs: 300836992, params: 3470760 });
      expect(profile.perLayer.reduce((s: number, l: { macs: number }) => s + l.macs, 0)).toBe(300836992);
      const { profile: mmcv } = await server.gql(`{ profile(architecture: "mobilenet-v2", convention: MMCV) { macs params } }`);
      expect(mmcv).toEqual({ macs: 320299008, params: 3504872 });
      const { profile: small } = await server.gql(`{ profile(architecture: "mbv2-fmnist", inputSize: 28, numClasses: 10) { macs } }`);
      expect(small.macs).toBe(9105872);
      expect(await server.gqlError(`{ profile(architecture: "mbv2-fmnist", channels: [1, 2, 3]) { macs } }`)).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field: 'channels' },
      });
      const { architectures } = await server.gql(`{ architectures { name } }`);
      expect(architectures.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['mobilenet-v1', 'mobilenet-v2', 'mnasnet', 'resnet-50', 'mbv2-fmnist']));
    });
  });

  describe('candidates', () => {
    it('creates uniform baselines and imports lists, idempotently', async () => {
      const { space } = await seedProject(server, 'cands');
      const { createUniformCandidates: made } = await server.gql(
        `mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.5, 0.75, 1.0] }) { id source widthMultiplier macs params configHash channels } }`,
        { s: space.id },
      );
      expect(made.map((c: { widthMultiplier: number }) => c.widthMultiplier)).toEqual([0.5, 0.75, 1]);
      expect(made[2].macs).toBe(9105872);
      expect(made[0].macs).toBeLessThan(made[1].macs);
      const { createUniformCandidates: again } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.5] }) { id } }`, { s: space.id });
      expect(again[0].id).toBe(made[0].id);
      const { importCandidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { source configHash macs } }`, {
        s: space.id,
        c: made[1].channels,
      });
      expect(importCandidate).toMatchObject({ source: 'IMPORTED', configHash: made[1].configHash, macs: made[1].macs });
      const tooWide = [...made[2].channels];
      tooWide[0] += 8;
      expect(await server.gqlError(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, { s: space.id, c: tooWide })).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field: 'input.channels[0]' },
      });
      expect(await server.gqlError(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.01] }) { id } }`, { s: space.id })).toMatchObject({
        extensions: { field: 'input.widths[0]' },
      });
    });

    it('sorts, filters and pages with cursors, with nulls last', async () => {
      const { projectId, space } = await seedProject(server, 'pages');
      const widths = [0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0];
      await server.gql(`mutation($s: ID!, $w: [Float!]!) { createUniformCandidates(input: { searchSpaceId: $s, widths: $w }) { id } }`, { s: space.id, w: widths });
      const page = (after: string | null, direction = 'DESC', extra = '') =>
        server.gql(
          `query($p: ID!, $a: String, $d: SortDirection!) { candidates(filter: { projectId: $p ${extra} }, orderBy: { field: MACS, direction: $d }, first: 3, after: $a) {
            totalCount pageInfo { hasNextPage endCursor } edges { cursor node { macs widthMultiplier } } } }`,
          { p: projectId, a: after, d: direction },
        );
      const seen: number[] = [];
      let after: string | null = null;
      for (;;) {
        const { candidates } = (await page(after)) as { candidates: any };
        expect(candidates.totalCount).toBe(10);
        seen.push(...candidates.edges.map((e: { node: { macs: number } }) => e.node.macs));
        if (!candidates.pageInfo.hasNextPage) break;
        after = candidates.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(10);
      expect(seen).toEqual([...seen].sort((a, b) => b - a));
      const { candidates: cheap } = await page(null, 'ASC', ', maxMacs: 3000000');
      expect(cheap.totalCount).toBeGreaterThan(0);
      expect(cheap.totalCount).toBeLessThan(10);
      const { candidates: byAccuracy } = await server.gql(
        `query($p: ID!) { candidates(filter: { projectId: $p, source: UNIFORM }, orderBy: { field: RETRAINED_TOP1, direction: DESC }, first: 500) { edges { node { retrainedTop1Mean } } } }`,
        { p: projectId },
      );
      expect(byAccuracy.edges).toHaveLength(10);
      expect(await server.gqlError(`{ candidates(first: 0) { totalCount } }`)).toMatchObject({ extensions: { field: 'first' } });
      expect(await server.gqlError(`{ candidates(first: 10000) { totalCount } }`)).toMatchObject({ extensions: { field: 'first' } });
      expect(await server.gqlError(`{ candidates(after: "garbage") { totalCount } }`)).toMatchObject({ extensions: { field: 'after' } });
    });
  });

  describe('supernets, trajectories and jobs without an executor', () => {
    it('queues a TRAIN_SUPERNET job that stays QUEUED with a clear reason', async () => {
      const { projectId, datasetId, space } = await seedProject(server, 'no-executor');
      const { trainSupernet: job } = await server.gql(
        `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d }) { ${JOB_FIELDS} payload } }`,
        { s: space.id, d: datasetId },
      );
      expect(job).toMatchObject({ kind: 'TRAIN_SUPERNET', state: 'QUEUED', projectId, attempts: 0 });
      expect(job.waitingReason).toMatch(/no online worker runs TRAIN_SUPERNET jobs/);
      expect(job.payload.recipe).toMatchObject({ epochs: 5, batchSize: 64, randomConfigs: 2, distillation: 'soft', schedule: 'linear', labelSmoothing: 0.1 });
      const { supernets } = await server.gql(`query($p: ID!) { supernets(filter: { projectId: $p }) { id name searchSpace { id } dataset { id } run { id status kind } checkpoint { id } trajectories { id } } }`, { p: projectId });
      expect(supernets).toEqual([
        { id: job.payload.supernetId, name: 'sn', searchSpace: { id: space.id }, dataset: { id: datasetId }, run: { id: job.subjectId, status: 'PENDING', kind: 'SUPERNET' }, checkpoint: null, trajectories: [] },
      ]);
      const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { name } }`, { id: job.payload.supernetId });
      expect(supernet.name).toBe('sn');
      const { jobs } = await server.gql(`query($p: ID!) { jobs(filter: { projectId: $p, state: QUEUED, kind: TRAIN_SUPERNET }) { id } }`, { p: projectId });
      expect(jobs).toEqual([{ id: job.id }]);
      const { job: fetched } = await server.gql(`query($id: ID!) { job(id: $id) { state waitingReason } }`, { id: job.id });
      expect(fetched.state).toBe('QUEUED');
      expect(await server.gqlError(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [5e6] }) { id } }`, { s: job.payload.supernetId })).toMatchObject({
        extensions: { code: 'FAILED_PRECONDITION', field: 'input.supernetId' },
      });
      const { cancelJob } = await server.gql(`mutation($id: ID!) { cancelJob(id: $id) { state finishedAt progressMessage } }`, { id: job.id });
      expect(cancelJob).toMatchObject({ state: 'CANCELLED', progressMessage: 'cancelled by user' });
      const { supernet: cancelled } = await server.gql(`query($id: ID!) { supernet(id: $id) { run { status } } }`, { id: job.payload.supernetId });
      expect(cancelled.run.status).toBe('CANCELLED');
    });

    it('validates training and slimming inputs before writing anything', async () => {
      const { projectId, datasetId, space } = await seedProject(server, 'bad-train');
      const train = (recipe: string, extra = '') =>
        server.gqlError(`mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "x", searchSpaceId: $s, datasetId: $d, recipe: { ${recipe} } ${extra} }) { id } }`, { s: space.id, d: datasetId });
      expect(await train('epochs: 0')).toMatchObject({ extensions: { field: 'input.recipe.epochs' } });
      expect(await train('learningRate: -1')).toMatchObject({ extensions: { field: 'input.recipe.learningRate' } });
      expect(await train('schedule: "exponential"')).toMatchObject({ extensions: { field: 'input.recipe.schedule' } });
      expect(await train('distillation: "maybe"')).toMatchObject({ extensions: { field: 'input.recipe.distillation' } });
      expect(await train('epochs: 1.5')).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
      expect(
        await server.gqlError(`mutation($s: ID!) { trainSupernet(input: { name: "x", searchSpaceId: $s, datasetId: "00000000-0000-4000-8000-000000000000" }) { id } }`, { s: space.id }),
      ).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.datasetId' } });
      const slim = (input: string) => server.gqlError(`mutation { startSlimming(input: { supernetId: "00000000-0000-4000-8000-000000000000", ${input} }) { id } }`);
      expect(await slim('targets: []')).toMatchObject({ extensions: { field: 'input.targets' } });
      expect(await slim('targets: [-1]')).toMatchObject({ extensions: { field: 'input.targets[0]' } });
      expect(await slim(`targets: [${Array.from({ length: 65 }, (_, i) => i + 1).join(',')}]`)).toMatchObject({ extensions: { field: 'input.targets' } });
      expect(await slim('targets: [1], evalBatchSize: 0')).toMatchObject({ extensions: { field: 'input.evalBatchSize' } });
      expect(await slim('targets: [1]')).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.supernetId' } });
      const { jobs } = await server.gql(`query($p: ID!) { jobs(filter: { projectId: $p }) { id } }`, { p: projectId });
      expect(jobs).toEqual([]);
      const { supernets } = await server.gql(`query($p: ID!) { supernets(filter: { projectId: $p }) { id } }`, { p: projectId });
      expect(supernets).toEqual([]);
    });
  });
});
