import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { TestServer } from '../support/server';
import { openBrowser, SCREENSHOTS } from './browser';
import { ensureWebBuild } from './build';

describe('the empty page in a real browser', () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    // No executors: the demo's first job waits in the queue, where the test can see it.
    server = await TestServer.start('sqlite');
    browser = await openBrowser();
    page = browser.page;
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('offers a one-click demo and the command of the real example with its duration', async () => {
    await page.goto(server.url);
    await page.getByText('No project yet.').waitFor();
    await page.getByRole('button', { name: 'Start a demo' }).waitFor();
    await page.getByText('npx slimlab run examples/fashion-mnist.yaml').waitFor();
    await page.getByText('about 35 minutes on a 2-core CPU').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'empty-demo.png') });
  });

  it('starts the demo: its project exists, its supernet training is queued, and the page shows the project', async () => {
    await page.getByRole('button', { name: 'Start a demo' }).click();
    await page.locator('header.top select option', { hasText: 'demo' }).waitFor({ state: 'attached' });
    await page.getByRole('heading', { name: /^Jobs/ }).waitFor();
    const { projects } = await server.gql(`{ projects { id name } }`);
    expect(projects.map((p: { name: string }) => p.name)).toEqual(['demo']);
    const { jobs } = await server.gql(`query($p: ID!) { jobs(filter: { projectId: $p }) { kind state } }`, { p: projects[0].id });
    expect(jobs).toEqual([{ kind: 'TRAIN_SUPERNET', state: 'QUEUED' }]);
    expect(new URL(page.url()).hash).toContain(projects[0].id);
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-started.png') });
    expect(pageErrors).toEqual([]);
  });
});
