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
  units: { index: number; name: string; members: number[]; choices: number[] }[];
}

/** The fractions of the widest width the fake greedy walk passes through, one per step. */
const WALK = [1, 0.9, 0.75, 0.6, 0.5];

/** The trajectory, compare and jobs views, each against what it showed wrongly before. */
describe('trajectory, compare and jobs views in a real browser', () => {
  let server: TestServer;
  // One worker slot, and the trainer asked first: a queue forms, and an export waits behind retrainings.
  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'SLIM', 'RETRAIN']);
  const exporter = new ScriptedPlugin(['EXPORT'], undefined, 'scripted-export');
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  let projectId: string;
  let datasetId: string;
  let space: Space;
  let supernetId: string;
  let trainingJobId: string;
  let slimJobId: string;
  let trajectoryId: string;

  async function profileOf(channels: number[]): Promise<{ macs: number; params: number }> {
    const { profile } = await server.gql(`query($c: [Int!]) { profile(architecture: "mbv2-fmnist", channels: $c) { macs params } }`, { c: channels });
    return profile;
  }

  /** A step that slimmed units[1]; units[0] lost, units[2] was screened out on the small batch. */
  async function reportStep(ctx: JobContext, index: number, fraction: number): Promise<{ channels: number[]; macs: number }> {
    const channels = configAt(space, fraction);
    const { macs, params } = await profileOf(channels);
    const accuracy = 0.5 + 0.3 * fraction;
    const [lost, won, screened] = space.units as [Space['units'][0], Space['units'][0], Space['units'][0]];
    const proposals = index === 0 ? [] : [
      { unitIndex: lost.index, score: accuracy - 0.02, accuracy: accuracy - 0.02, cost: macs * 1.01 },
      { unitIndex: won.index, score: accuracy, accuracy, cost: macs },
      { unitIndex: screened.index, score: 0.3, accuracy: 0.3, cost: macs * 0.99, screenAccuracy: 0.3, screenedOut: true },
    ];
    await ctx.report({
      type: 'slimmingStep',
      trajectoryId,
      step: { index, unitIndex: index ? won.index : null, unitName: index ? won.name : null, channels, macs, params,
        predictedLatencyMs: null, score: accuracy, accuracy, accuracyDrop: 0.8 - accuracy, proposals },
    });
    return { channels, macs };
  }

  async function jobState(id: string): Promise<string> {
    return (await server.gql(`query($id: ID!) { job(id: $id) { state } }`, { id })).job.state;
  }

  async function seed(): Promise<void> {
    const seeded = await seedProject(server, 'details');
    ({ projectId, datasetId } = seeded);
    ({ searchSpace: space } = await server.gql(`query($id: ID!) { searchSpace(id: $id) { id maxChannels units { index name members choices } } }`, { id: seeded.space.id }));
    const training = await trainSupernet(server, space.id, datasetId, 'first');
    trainingJobId = training.id;
    supernetId = training.payload.supernetId;
    const trainCtx = await trainer.whenStarted(training.id);
    await trainCtx.report({ type: 'checkpoint', runId: training.payload.runId, step: 1, artifact: await trainCtx.artifacts.put('CHECKPOINT', 'supernet', Buffer.from('w')) });
    trainer.finish(training.id);

    const { startSlimming: slim } = await server.gql(
      `mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [7000000, 4000000], evalBatchSize: 16 }) { id subjectId } }`,
      { s: supernetId },
    );
    slimJobId = slim.id;
    trajectoryId = slim.subjectId;
    const slimCtx = await trainer.whenStarted(slim.id);
    for (const [index, fraction] of WALK.entries()) {
      const { channels, macs } = await reportStep(slimCtx, index, fraction);
      const target = [4e6, 7e6].find((t) => macs <= t);
      if (target !== undefined && (fraction === 0.75 || fraction === 0.5)) {
        await slimCtx.report({ type: 'candidate', trajectoryId, target, channels, searchAccuracy: 0.5 + 0.3 * fraction, step: index });
      }
    }
    trainer.finish(slim.id);
    await eventually(async () => ((await jobState(slim.id)) === 'SUCCEEDED' ? true : undefined));
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
    server = await TestServer.start('sqlite', [trainer, exporter], undefined, { workerConcurrency: 1 });
    await seed();
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

  it('says a finished trajectory is finished, shows every proposal of a step, marks the candidates, and steps by keyboard', async () => {
    await visit('trajectory', { trajectory: trajectoryId });
    await page.locator('.step-count', { hasText: '5 steps' }).waitFor();
    await page.locator('.chart canvas').nth(1).waitFor();
    await shoot('trajectory-finished');
    await page.locator('.run-state', { hasText: 'finished' }).waitFor();
    expect(await page.locator('.live').count()).toBe(0);
    expect(await page.getByText('now at').count()).toBe(0);
    await page.getByText(/ended at [\d.]+ [kM]? ?MACs/).waitFor();

    const proposals = page.locator('table.proposals tbody tr');
    expect(await proposals.count()).toBe(3);
    const [lost, won, screened] = space.units;
    await proposals.filter({ hasText: won!.name }).and(page.locator('.chosen')).waitFor();
    await proposals.filter({ hasText: screened!.name }).filter({ hasText: 'screened out' }).waitFor();
    expect(await proposals.filter({ hasText: lost!.name }).filter({ hasText: 'screened out' }).count()).toBe(0);
    for (const cell of await proposals.locator('td.accuracy').allTextContents()) expect(cell).toMatch(/^\d+\.\d\d%$/);

    const { trajectory } = await server.gql(`query($id: ID!) { trajectory(id: $id) { picks { step candidate { id } } } }`, { id: trajectoryId });
    expect(trajectory.picks).toHaveLength(2);
    await page.getByRole('img', { name: /greedy path, 2 candidates marked$/ }).waitFor();
    const picks = page.locator('ul.picks li');
    expect(await picks.count()).toBe(2);
    for (const pick of trajectory.picks as { step: number; candidate: { id: string } }[]) {
      await picks.filter({ hasText: `step ${pick.step}` }).filter({ hasText: pick.candidate.id.slice(0, 8) }).waitFor();
    }

    const slider = page.getByRole('slider', { name: 'Step of the greedy path' });
    await slider.focus();
    await page.keyboard.press('ArrowLeft');
    await page.locator('.step-title', { hasText: 'Step 3' }).waitFor();
    // The page re-renders on every step; the slider keeps the focus, so the keys keep working.
    expect(await page.evaluate('document.activeElement.getAttribute("aria-label")')).toBe('Step of the greedy path');
    await page.keyboard.press('Home');
    await page.locator('.step-title', { hasText: 'Step 0 (widest)' }).waitFor();
    await page.getByText('Step 0 is the widest configuration: nothing was proposed yet.').waitFor();
    await page.keyboard.press('End');
    await page.locator('.step-title', { hasText: 'Step 4' }).waitFor();
    await shoot('trajectory-detail');
    expect(pageErrors).toEqual([]);
  });

  it('compares two candidates one row per unit, with differences, a bar chart and the order they were chosen in', async () => {
    const { candidates } = await server.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s }) { edges { node { id macs channels } } } }`, { s: space.id });
    const nodes = (candidates.edges as { node: { id: string; macs: number; channels: number[] } }[]).map((e) => e.node).sort((x, y) => x.macs - y.macs);
    expect(nodes).toHaveLength(2);
    // The wider candidate first: the page must keep A as chosen, not re-sort by cost.
    const [b, a] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await visit('compare', { a: a.id, b: b.id });
    await page.locator('.compare-table').waitFor();
    await shoot('compare-chosen-order');
    const unitRows = page.locator('.compare-table tbody tr.unit');
    expect(await unitRows.count()).toBe(space.units.length);
    const names = await unitRows.locator('td.unit-name').allTextContents();
    expect(names).toEqual(space.units.map((u) => u.name));

    const headers = await page.locator('.compare-table thead th').allTextContents();
    expect(headers.find((h) => h.startsWith('A '))).toContain(a.id.slice(0, 8));
    expect(headers.find((h) => h.startsWith('B '))).toContain(b.id.slice(0, 8));
    const widthOf = (c: typeof a, unit: Space['units'][0]) => c.channels[unit.members[0]!]!;
    for (const [i, unit] of space.units.entries()) {
      const delta = widthOf(b, unit) - widthOf(a, unit);
      expect(await unitRows.nth(i).locator('td.delta').textContent()).toBe(delta === 0 ? '' : delta > 0 ? `+${delta}` : `${delta}`);
    }
    expect(await page.locator('tr[data-metric=macs] td.delta').textContent()).toMatch(/^−[\d.]+ [kM]? \(−\d+\.\d%\)$/);
    expect(await page.locator('tr[data-metric=params] td.delta').textContent()).toMatch(/^−[\d.]+ [kM]? ?\(−\d+\.\d%\)$/);
    expect(await page.locator('tr[data-metric=searchAccuracy] td.delta').textContent()).toMatch(/^−\d+\.\d\d pts$/);
    await page.getByRole('img', { name: `channels per unit, A ${a.id.slice(0, 8)} against B ${b.id.slice(0, 8)}` }).waitFor();

    await page.locator('select[name=a]').selectOption(b.id);
    await page.locator('select[name=b]').selectOption(a.id);
    await page.locator('.compare-table thead th', { hasText: `A ${b.id.slice(0, 8)}` }).waitFor();
    expect(await page.locator('tr[data-metric=macs] td.delta').textContent()).toMatch(/^\+/);
    await shoot('compare');
    expect(pageErrors).toEqual([]);
  });

  it('names each job, links its subject, gives duration and finish time, and says where a queued job stands', async () => {
    const blocking = await trainSupernet(server, space.id, datasetId, 'blocking');
    await trainer.whenStarted(blocking.id);
    const { candidates } = await server.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s }) { edges { node { id } } } }`, { s: space.id });
    const candidateId = candidates.edges[0].node.id as string;
    const { exportCandidate: exportJob } = await server.gql(`mutation($c: ID!, $s: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s }) { id } }`, {
      c: candidateId,
      s: supernetId,
    });
    await server.gql(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0, 1] }) { id } }`, { c: candidateId, d: datasetId });

    await visit('jobs');
    const exportRow = page.locator(`tr[data-job="${exportJob.id}"]`);
    await exportRow.waitFor();
    await shoot('jobs-queue');
    await exportRow.getByText(`Export of candidate ${candidateId.slice(0, 8)}`).waitFor();
    await exportRow.getByText('3rd in line').waitFor();
    await exportRow.getByText('waiting for 2 RETRAIN jobs queued before it').waitFor();
    expect(await exportRow.getByRole('link', { name: `candidate ${candidateId.slice(0, 8)}` }).getAttribute('href')).toContain(`a=${candidateId}`);
    // Slimming queued the evaluation of its candidates' inherited accuracy, and nothing here runs EVALUATE.
    await page.locator('tr[data-kind=EVALUATE]').getByText('waiting for a worker that offers EVALUATE').waitFor();

    const trainingRow = page.locator(`tr[data-job="${trainingJobId}"]`);
    await trainingRow.getByText('Training of supernet first').waitFor();
    expect(await trainingRow.getByRole('link', { name: 'supernet first' }).getAttribute('href')).toContain(`supernet=${supernetId}`);
    expect(await trainingRow.locator('td.duration').textContent()).toMatch(/^(\d+ ms|\d+(\.\d)? s|\d+ min \d+ s)$/);
    expect(await trainingRow.locator('td.finished').textContent()).not.toBe('—');
    const slimRow = page.locator(`tr[data-job="${slimJobId}"]`);
    expect(await slimRow.getByRole('link', { name: 'trajectory' }).getAttribute('href')).toContain(`trajectory=${trajectoryId}`);
    expect(await page.locator(`tr[data-job="${blocking.id}"] td.finished`).textContent()).toBe('—');

    // The line moves while the page is open.
    trainer.finish(blocking.id);
    await exportRow.getByText('2nd in line').waitFor();
    await exportRow.getByText('waiting for 1 RETRAIN job queued before it').waitFor();
    await shoot('jobs');
    expect(pageErrors).toEqual([]);
  });
});
