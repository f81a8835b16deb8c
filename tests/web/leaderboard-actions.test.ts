import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { syntheticImages } from '../../executors/data/synthetic';
import { OnnxExportPlugin } from '../../executors/onnx';
import { seedTinySearch } from '../support/fixtures';
import { eventually, TestServer } from '../support/server';
import { TEST_LOADER } from '../support/streamed';
import { openBrowser, SCREENSHOTS } from './browser';
import { ensureWebBuild } from './build';
import { randomWeightsTrainer } from './random-weights-trainer';

/** The synthetic dataset seedTinySearch registers (its default seed), so the test can rebuild its test split. */
const TINY = { numClasses: 4, channels: 1, size: 8, seed: 0, testSize: 64 };

describe('acting on a leaderboard candidate in a real browser', () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  let world: Awaited<ReturnType<typeof seedTinySearch>>;
  let candidates: { id: string; macs: number }[];

  function visit(view: string, params: Record<string, string> = {}): Promise<unknown> {
    return page.goto(`${server.url}/#/${view}?${new URLSearchParams({ project: world.projectId, space: world.spaceId, ...params })}`);
  }

  async function shoot(name: string): Promise<void> {
    await page.waitForTimeout(300); // lets ECharts finish drawing its canvas
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  const row = (id: string) => page.locator(`table.candidates tr[data-candidate="${id}"]`);

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await TestServer.start('sqlite', [randomWeightsTrainer(), new OnnxExportPlugin({ provider: 'cpu', threads: 1, data: TEST_LOADER })]);
    world = await seedTinySearch(server, 'actions');
    const { trainSupernet } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "tiny supernet", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id } }`,
      { s: world.spaceId, d: world.datasetId },
    );
    await eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error } }`, { id: trainSupernet.id });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? true : undefined;
    }, 60_000);
    ({ createUniformCandidates: candidates } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.2, 0.35] }) { id macs } }`, {
      s: world.spaceId,
    }));
    browser = await openBrowser();
    page = browser.page;
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows every candidate with a short id that the copy button puts on the clipboard', async () => {
    await visit('leaderboard');
    const [cheap] = candidates;
    await row(cheap!.id).waitFor();
    expect(await row(cheap!.id).locator('td.id code').textContent()).toBe(cheap!.id.slice(0, 8));
    await row(cheap!.id).getByRole('button', { name: `copy id ${cheap!.id.slice(0, 8)}` }).click();
    await row(cheap!.id).locator('button.copy', { hasText: 'copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(cheap!.id.slice(0, 8));
  });

  it('exports from the page, follows the job, and downloads a file ONNX Runtime runs at the accuracy the page states', async () => {
    const [cheap] = candidates;
    await row(cheap!.id).getByRole('button', { name: 'Export' }).click();
    const form = page.locator('form.export-form');
    await form.getByLabel('Weights').selectOption({ label: 'sliced from supernet tiny supernet (BN recalibrated on training images)' });
    await form.getByLabel('Batch norm').selectOption('RUNNING');
    await form.getByRole('button', { name: 'Start export' }).click();
    const link = form.locator('button.download');
    await link.waitFor();
    const stated = (await form.locator('.export-done').textContent())!.match(/test split: (\d+\.\d\d)%/)![1];

    await shoot('leaderboard-export');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^mbv2-fmnist-[0-9a-f]{12}-running\.onnx$/);
    const file = await readFile((await download.path())!);
    const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const test = syntheticImages(TINY, 'test', TINY.testSize);
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(test.pixels, (v) => v / 255), [TINY.testSize, 1, 8, 8]) });
    await session.release();
    const logits = out[session.outputNames[0]!]!.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < TINY.testSize; i++) {
      const scores = Array.from(logits.subarray(i * 4, i * 4 + 4));
      if (scores.indexOf(Math.max(...scores)) === test.labels[i]) correct++;
    }
    expect(((100 * correct) / TINY.testSize).toFixed(2)).toBe(stated);
    expect(pageErrors).toEqual([]);
  });

  it('retrains from the page with the seeds given, and shows each run with its curves', async () => {
    const [cheap] = candidates;
    await row(cheap!.id).getByRole('button', { name: 'Retrain' }).click();
    const retrain = page.locator('form.retrain-form');
    await retrain.getByLabel('Seeds').fill('0, x');
    await retrain.getByRole('button', { name: 'Queue retraining' }).click();
    await retrain.getByText('Seeds must be whole numbers of zero or more, separated by commas, e.g. 0, 1, 2.').waitFor();
    await retrain.getByLabel('Seeds').fill('0, 1');
    await retrain.getByRole('button', { name: 'Queue retraining' }).click();
    await eventually(async () => ((await retrain.locator('.job-progress[data-state=SUCCEEDED]').count()) === 2 ? true : undefined), 60_000);
    await row(cheap!.id).locator('td', { hasText: /^50\.50% ± \d+\.\d\d \(n=2\)$/ }).waitFor();

    await row(cheap!.id).getByRole('button', { name: 'Runs' }).click();
    const runs = page.locator('.runs table tbody tr');
    await runs.first().waitFor();
    expect(await runs.locator('td:first-child').allTextContents()).toEqual(['1', '0']);
    await runs.first().getByRole('button', { name: 'Curves' }).click();
    await page.locator('.runs figure[data-metric=loss] figcaption', { hasText: 'Training loss: 1.000 at step 2 · 3 points stored' }).waitFor();
    await shoot('leaderboard-runs');
    // A finished run's curves are history: nothing on the page claims to be live.
    expect(await page.locator('.runs .live').count()).toBe(0);

    // With a finished retraining, an export reads its weights unless told otherwise.
    await row(cheap!.id).getByRole('button', { name: 'Export' }).click();
    const form = page.locator('form.export-form');
    expect(await form.getByLabel('Weights').locator('option:checked').textContent()).toBe('retrained from scratch, seed 1, test top-1 51.00%');
    await form.getByRole('button', { name: 'Start export' }).click();
    await form.locator('button.download', { hasText: /-folded\.onnx$/ }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('lets the Pareto plot show the exported and retrained accuracies, and lists the candidates without them', async () => {
    await visit('pareto');
    await page.getByText('Plotted: retrained top-1').waitFor();
    await page.getByLabel(/^exported top-1 \(1 of 2\)$/).check();
    await page.getByText(/^Plotted: exported top-1 \(test split, the latest exported ONNX file\) against MACs, for 1 of 2 candidates/).waitFor();
    const missing = page.locator('.unplotted tbody tr');
    await missing.first().waitFor();
    expect(await missing.count()).toBe(1);
    expect(await missing.getAttribute('data-candidate')).toBe(candidates[1]!.id);
    expect(await missing.locator('td:last-child').textContent()).toBe('none yet');
    await shoot('pareto-exported');
    expect(pageErrors).toEqual([]);
  });

  it("fine-tunes from a supernet's weights from the page, counted apart from the retrainings from scratch", async () => {
    const wide = candidates[1]!;
    await visit('leaderboard');
    await row(wide.id).getByRole('button', { name: 'Retrain' }).click();
    const retrain = page.locator('form.retrain-form');
    await retrain.getByLabel('Seeds').fill('3');
    await retrain.getByLabel('Start from').selectOption('SUPERNET');
    expect(await retrain.locator('select[name=supernet] option:checked').textContent()).toBe('tiny supernet');
    await retrain.getByRole('button', { name: 'Queue retraining' }).click();
    await retrain.locator('.job-progress[data-state=SUCCEEDED]').waitFor();
    await row(wide.id).locator('td', { hasText: '53.00% (n=1, one seed: no interval)' }).waitFor();
    const { candidate } = await server.gql(`query($id: ID!) { candidate(id: $id) { retrainedTop1 { n } fineTunedTop1 { n } runs { init } } }`, { id: wide.id });
    expect(candidate).toEqual({ retrainedTop1: null, fineTunedTop1: { n: 1 }, runs: [{ init: 'SUPERNET' }] });
    expect(pageErrors).toEqual([]);
  });
});
