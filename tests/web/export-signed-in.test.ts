import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { OnnxExportPlugin } from '../../executors/onnx';
import { ArtifactKind, ProjectRole } from '../../schema/enums';
import { Artifact } from '../../server/entities';
import { addMember, createUser } from '../../server/auth/users';
import { scratchDatabase, type ScratchDatabase } from '../support/databases';
import { seedTinySearch } from '../support/fixtures';
import { eventually, TestServer } from '../support/server';
import { TEST_LOADER } from '../support/streamed';
import { openBrowser } from './browser';
import { ensureWebBuild } from './build';
import { randomWeightsTrainer } from './random-weights-trainer';

const PASSWORD = 'correct horse battery';

/**
 * The server asks every cookie-authenticated request for the session's CSRF token, so a plain link
 * to /artifacts/<id> is refused once authentication is on: the page must fetch the file itself.
 */
describe('downloading an export from the web app with authentication on', () => {
  let scratch: ScratchDatabase;
  let dataDir: string;
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  let candidateId: string;

  beforeAll(async () => {
    ensureWebBuild();
    scratch = await scratchDatabase('sqlite');
    dataDir = mkdtempSync(join(tmpdir(), 'slimlab-export-signed-in-'));
    // Seeded as a local install would, then served with authentication on, as auth-world does.
    const local = await TestServer.start('sqlite', [randomWeightsTrainer()], { database: scratch.target, dataDir });
    const world = await seedTinySearch(local, 'signed-in export');
    const { trainSupernet } = await local.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "tiny supernet", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id } }`,
      { s: world.spaceId, d: world.datasetId },
    );
    await eventually(async () => {
      const { job } = await local.gql(`query($id: ID!) { job(id: $id) { state } }`, { id: trainSupernet.id });
      return job.state === 'SUCCEEDED' ? true : undefined;
    }, 60_000);
    const { createUniformCandidates } = await local.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.2] }) { id } }`, { s: world.spaceId });
    candidateId = createUniformCandidates[0].id;
    await local.stop({ keepData: true });

    server = await TestServer.start('sqlite', [new OnnxExportPlugin({ provider: 'cpu', threads: 1, data: TEST_LOADER })], { database: scratch.target, dataDir }, { auth: true });
    const ada = await createUser(server.server.orm, { name: 'ada', password: PASSWORD, admin: false });
    await addMember(server.server.orm, world.projectId, ada.id, ProjectRole.EDITOR);
    browser = await openBrowser();
    page = browser.page;
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop({ keepData: true });
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports as a signed-in editor and downloads a file ONNX Runtime loads, where a plain link would be refused', async () => {
    await page.goto(server.url);
    await page.getByLabel('User name').fill('ada');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`table.candidates tr[data-candidate="${candidateId}"]`);
    await row.getByRole('button', { name: 'Export' }).click();
    const form = page.locator('form.export-form');
    await form.getByRole('button', { name: 'Start export' }).click();
    const link = form.locator('button.download');
    await link.waitFor();

    // The API answers no one without a credential here, so the test reads the file's id from the database.
    const exported = await server.server.orm.em.fork().findOneOrFail(Artifact, { kind: ArtifactKind.ONNX });
    const plain = await page.evaluate(async (path) => (await fetch(path)).status, `/artifacts/${exported.id}`);
    expect(plain).toBe(403);

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const session = await ort.InferenceSession.create(await readFile((await download.path())!), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    expect(session.inputNames).toEqual(['input']);
    await session.release();
    expect(pageErrors).toEqual([]);
  });
});
