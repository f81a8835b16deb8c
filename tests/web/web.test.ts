import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { JobContext } from '../../executors/contract';
import { configAt } from '../cli/scripted-search';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { eventually, TestServer } from '../support/server';
import { openBrowser, SCREENSHOTS } from './browser';
import { ensureWebBuild } from './build';

interface Space {
  id: string;
  maxChannels: number[];
  units: { name: string; members: number[]; choices: number[] }[];
}

describe('web app in a real browser', () => {
  let server: TestServer;
  let plugin: ScriptedPlugin;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  let projectId: string;
  let space: Space;
  let datasetId: string;
  let supernetId: string;
  let trajectoryId: string;

  async function profileOf(channels: number[]): Promise<{ macs: number; params: number }> {
    const { profile } = await server.gql(`query($c: [Int!]) { profile(architecture: "mbv2-fmnist", channels: $c) { macs params } }`, { c: channels });
    return profile;
  }

  async function reportStep(ctx: JobContext, trajectory: string, index: number, fraction: number): Promise<number[]> {
    const channels = configAt(space, fraction);
    const { macs, params } = await profileOf(channels);
    const accuracy = 0.5 + 0.3 * fraction;
    await ctx.report({
      type: 'slimmingStep',
      trajectoryId: trajectory,
      step: { index, unitIndex: index ? 1 : null, unitName: index ? space.units[1].name : null, channels, macs, params,
        predictedLatencyMs: null, score: accuracy, accuracy, accuracyDrop: 0.8 - accuracy, proposals: [] },
    });
    return channels;
  }

  async function startSlimming(): Promise<{ id: string; subjectId: string }> {
    const { startSlimming } = await server.gql(
      `mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [7000000, 4000000], evalBatchSize: 16 }) { id subjectId } }`,
      { s: supernetId },
    );
    return startSlimming;
  }

  /** Everything the views show: a trained supernet, a finished trajectory, candidates, a retraining. */
  async function seedFinishedSearch(): Promise<void> {
    const seeded = await seedProject(server, 'web-demo');
    ({ projectId, datasetId } = seeded);
    ({ searchSpace: space } = await server.gql(`query($id: ID!) { searchSpace(id: $id) { id maxChannels units { name members choices } } }`, { id: seeded.space.id }));
    const training = await trainSupernet(server, space.id, datasetId);
    supernetId = training.payload.supernetId;
    const trainCtx = await plugin.whenStarted(training.id);
    const runId = training.payload.runId;
    await trainCtx.report({ type: 'metrics', runId, points: Array.from({ length: 40 }, (_, step) => ({ name: 'loss', step, value: 2.3 * Math.exp(-step / 15) })) });
    await trainCtx.report({ type: 'metrics', runId, points: Array.from({ length: 40 }, (_, step) => ({ name: 'top1', step, value: 0.1 + 0.6 * (1 - Math.exp(-step / 12)) })) });
    await trainCtx.report({ type: 'checkpoint', runId, step: 39, artifact: await trainCtx.artifacts.put('CHECKPOINT', 'supernet', Buffer.from('w')) });
    plugin.finish(training.id);

    const slim = await startSlimming();
    trajectoryId = slim.subjectId;
    const slimCtx = await plugin.whenStarted(slim.id);
    for (const [index, fraction] of [1, 0.9, 0.75, 0.6, 0.5].entries()) {
      const channels = await reportStep(slimCtx, trajectoryId, index, fraction);
      const { macs } = await profileOf(channels);
      const target = [4e6, 7e6].find((t) => macs <= t);
      if (target !== undefined && (fraction === 0.75 || fraction === 0.5)) {
        await slimCtx.report({ type: 'candidate', trajectoryId, target, channels, searchAccuracy: 0.5 + 0.3 * fraction });
      }
    }
    plugin.finish(slim.id);

    await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [1.0, 0.75, 0.5, 0.35] }) { id } }`, { s: space.id });
    await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, { s: space.id, c: configAt(space, 0.66) });
    const { candidates } = await server.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s }) { edges { node { id macs source } } } }`, { s: space.id });
    for (const { node } of candidates.edges as { node: { id: string; macs: number; source: string } }[]) {
      // AutoSlim beats uniform width at equal cost, as in the paper, so the ranks are not all 1.
      const top1 = 0.6 + node.macs / 5e7 + (node.source === 'AUTOSLIM' ? 0.03 : 0);
      const { retrainCandidate: jobs } = await server.gql(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0, 1] }) { id payload } }`, {
        c: node.id,
        d: datasetId,
      });
      for (const [seed, job] of (jobs as { id: string; payload: { runId: string } }[]).entries()) {
        const ctx = await plugin.whenStarted(job.id);
        await ctx.report({ type: 'runSummary', runId: job.payload.runId, summary: { top1: top1 + seed * 0.004 } });
        plugin.finish(job.id);
      }
    }
    await eventually(async () => {
      const { jobs } = await server.gql(`query($p: ID!) { jobs(filter: { projectId: $p, state: SUCCEEDED }) { id } }`, { p: projectId });
      return jobs.length === 2 + 2 * candidates.edges.length ? true : undefined;
    });
  }

  async function shoot(name: string): Promise<void> {
    await page.waitForTimeout(300); // lets ECharts finish drawing its canvas
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  function visit(view: string, params: Record<string, string> = {}): Promise<unknown> {
    const query = new URLSearchParams({ project: projectId, space: space.id, ...params });
    return page.goto(`${server.url}/#/${view}?${query}`);
  }

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(SCREENSHOTS, { recursive: true });
    plugin = new ScriptedPlugin(['TRAIN_SUPERNET', 'SLIM', 'RETRAIN']);
    server = await TestServer.start('sqlite', [plugin]);
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

  it('shows the designed empty state before any project exists', async () => {
    await page.goto(server.url);
    await page.getByText('No project yet.').waitFor();
    await shoot('empty');
  });

  it('shows the API tokens view in local mode, with creation off and the reason', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await page.getByText('This server runs in local mode, with authentication off').waitFor();
    expect(await page.getByRole('button', { name: 'Create token' }).isDisabled()).toBe(true);
    await shoot('tokens-local');
    expect(pageErrors).toEqual([]);
  });

  it('ranks, sorts, filters and pages the leaderboard on the server', async () => {
    await seedFinishedSearch();
    await visit('leaderboard');
    const rows = page.locator('table.grid tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(7);
    await expect(page.locator('.pager span').textContent()).resolves.toBe('1–7 of 7');
    await page.getByText('Pareto rank over MACs vs retrained top-1').waitFor();
    const ranks = await rows.locator('td:last-child').allTextContents();
    expect(new Set(ranks)).toEqual(new Set(['1', '2']));
    await shoot('leaderboard');

    const macsColumn = () => rows.locator('td:nth-child(4)').allTextContents();
    const ascending = await macsColumn();
    await page.getByRole('button', { name: /^MACs/ }).click();
    await page.locator('table.grid tbody tr:first-child td:nth-child(4)', { hasText: ascending.at(-1)! }).waitFor();
    expect(await macsColumn()).toEqual([...ascending].reverse());

    await page.getByLabel('Max MACs (M)').fill('4');
    await page.getByRole('button', { name: 'Apply budget' }).click();
    await page.locator('.pager span', { hasText: '1–3 of 3' }).waitFor();
    await page.getByLabel('Max MACs (M)').fill('cheap');
    await page.getByRole('button', { name: 'Apply budget' }).click();
    await page.getByText('The budget must be a positive number of millions of MACs.').waitFor();
  });

  it('draws the Pareto plot, the trajectory, a unit chart and a layer-by-layer comparison', async () => {
    await visit('pareto');
    await page.getByText('7 of 7 candidates, retrained top-1 vs MACs').waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await shoot('pareto');

    await visit('trajectory', { trajectory: trajectoryId });
    await page.locator('.step-count', { hasText: '5 steps' }).waitFor();
    await page.getByText(/Step 4 \(slimmed/).waitFor();
    // The charts mount after the step list; counting at once raced them on a busy machine.
    await page.locator('.chart canvas').nth(1).waitFor();
    expect(await page.locator('.chart canvas').count()).toBe(2);
    await shoot('trajectory');

    await visit('leaderboard');
    await page.locator('table.grid tbody tr').first().waitFor();
    await page.locator('table.grid tbody input[type=checkbox]').nth(0).check();
    await page.locator('table.grid tbody input[type=checkbox]').nth(6).check();
    await page.getByRole('button', { name: 'Compare selected (2/2)' }).click();
    await page.locator('.compare-table').waitFor();
    expect(await page.locator('.compare-table tbody tr').count()).toBe(1 + space.maxChannels.length);
    expect(await page.locator('.compare-table td.wider').count()).toBeGreaterThan(0);
    await shoot('compare');
  });

  it('updates supernet curves, trajectory and jobs live, and cancels a job from the page', async () => {
    const training = await trainSupernet(server, space.id, datasetId, 'live supernet');
    const ctx = await plugin.whenStarted(training.id);
    const runId = training.payload.runId;
    await visit('supernet', { supernet: training.payload.supernetId });
    await page.getByText('No metric reported yet.').waitFor();
    await page.locator('.live', { hasText: 'live' }).first().waitFor();
    await ctx.report({ type: 'metrics', runId, points: [0, 1, 2].map((step) => ({ name: 'loss', step, value: 2 - step / 4 })) });
    await page.locator('figure[data-metric=loss] figcaption', { hasText: 'loss: 1.500 at step 2 · 3 points stored' }).waitFor();
    await ctx.report({ type: 'metrics', runId, points: [3, 4].map((step) => ({ name: 'loss', step, value: 2 - step / 4 })) });
    await page.locator('figure[data-metric=loss] figcaption', { hasText: 'loss: 1.000 at step 4 · 5 points stored' }).waitFor();
    await shoot('supernet');

    const slim = await startSlimming();
    const slimCtx = await plugin.whenStarted(slim.id);
    await visit('trajectory', { trajectory: slim.subjectId });
    await page.getByText('No step yet').waitFor();
    await reportStep(slimCtx, slim.subjectId, 0, 1);
    await page.locator('.step-count', { hasText: '1 steps' }).waitFor();
    await reportStep(slimCtx, slim.subjectId, 1, 0.9);
    await page.locator('.step-count', { hasText: '2 steps' }).waitFor();
    plugin.finish(slim.id);

    await visit('jobs');
    const row = page.locator(`tr[data-job="${training.id}"]`);
    await row.waitFor();
    await ctx.progress(0.4, 'epoch 2/5');
    await row.getByText('40%').waitFor();
    await row.getByText('epoch 2/5').waitFor();
    await page.getByRole('cell', { name: 'scripted', exact: true }).first().waitFor();
    await shoot('jobs');
    await row.getByRole('button', { name: 'Cancel' }).click();
    await page.locator(`tr[data-job="${training.id}"][data-state=CANCELLED]`).waitFor();
    await row.getByRole('button', { name: 'Retry' }).waitFor();
    await shoot('jobs-cancelled');
    expect(pageErrors).toEqual([]);
  });

  it('pages through more candidates than fit on a page with cursors', async () => {
    // The two units with the most widths give enough distinct channel lists.
    const [first, second] = [...space.units].sort((a, b) => b.choices.length - a.choices.length) as [Space['units'][0], Space['units'][0]];
    for (let i = 0; i < 50; i++) {
      const channels = configAt(space, 1);
      first.members.forEach((m) => (channels[m] = first.choices[i % first.choices.length]!));
      second.members.forEach((m) => (channels[m] = second.choices[Math.floor(i / first.choices.length)]!));
      await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, { s: space.id, c: channels });
    }
    await visit('leaderboard');
    const pager = page.locator('.pager span');
    await pager.filter({ hasText: '1–50 of 57' }).waitFor();
    expect(await page.locator('table.grid tbody tr').count()).toBe(50);
    await page.getByRole('button', { name: 'Next →' }).click();
    await pager.filter({ hasText: '51–57 of 57' }).waitFor();
    expect(await page.locator('table.grid tbody tr').count()).toBe(7);
    expect(await page.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '← Previous' }).click();
    await pager.filter({ hasText: '1–50 of 57' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
