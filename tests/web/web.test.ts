import { createHash } from 'node:crypto';
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

interface EvaluatePayload {
  bnModes: string[];
  configs: { key: string; channels: number[] }[];
}

interface Space {
  id: string;
  maxChannels: number[];
  units: { name: string; members: number[]; choices: number[] }[];
}

/** A number in [0, 1) fixed by `text`: the fake executors' figures, the same whenever asked. */
function jitter(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/** What seeds 0, 1 and 2 add to a retraining's top-1: differences that vary a little from seed to seed. */
const BASELINE_SEEDS = [0, 0.004, 0.002];
const AUTOSLIM_SEEDS = [0.002, 0.005, 0.003];
/** Seeds that disagree by more than the AutoSlim advantage. */
const NOISY_SEEDS = [-0.03, 0.02, -0.02];

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
  /** RETRAIN jobs the test has answered. */
  const answered = new Set<string>();

  /** How wide a config is, as a fraction of the widest: what the fake figures grow with. */
  const widthOf = (channels: readonly number[]) => channels.reduce((a, b) => a + b, 0) / space.maxChannels.reduce((a, b) => a + b, 0);

  /**
   * The fake evaluator: scores with recalibrated BN follow the width closely, scores with the
   * batch's statistics only loosely, so the ranking view has a good and a poor BN mode to show.
   */
  function evaluate(payload: EvaluatePayload) {
    const results = payload.configs.flatMap(({ key, channels }) =>
      payload.bnModes.map((bnMode) => {
        const top1 =
          bnMode === 'RECALIBRATED' ? 0.3 + 0.4 * widthOf(channels) + 0.06 * jitter(key) : 0.2 + 0.15 * widthOf(channels) + 0.3 * jitter(`${key}/batch`);
        return { key, bnMode, top1, loss: 2 * (1 - top1), images: 32 };
      }),
    );
    return { results, provider: 'cpu', evalSeconds: 0.1 };
  }

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
    await trainCtx.report({ type: 'metrics', runId, points: Array.from({ length: 40 }, (_, step) => ({ name: 'loss/narrowest', step, value: 2.3 * Math.exp(-step / 20) })) });
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
        await slimCtx.report({ type: 'candidate', trajectoryId, target, channels, searchAccuracy: 0.5 + 0.3 * fraction, step: index });
      }
    }
    plugin.finish(slim.id);

    await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [1.0, 0.75, 0.5, 0.35] }) { id } }`, { s: space.id });
    // The baselines an AutoSlim candidate is judged against: the widest uniform width within each target.
    await server.gql(`mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id } }`, { s: space.id, t: trajectoryId });
    await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, { s: space.id, c: configAt(space, 0.66) });
    const { candidates } = await server.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s }) { edges { node { id macs source } } } }`, { s: space.id });
    const nodes = (candidates.edges as { node: { id: string; macs: number; source: string } }[]).map((e) => e.node);
    const cheapestAutoSlim = Math.min(...nodes.filter((n) => n.source === 'AUTOSLIM').map((n) => n.macs));
    let retrainings = 0;
    for (const node of nodes) {
      // AutoSlim beats uniform width at equal cost, as in the paper, so the ranks are not all 1; the
      // cheapest AutoSlim candidate's seeds disagree so much that its verdict cannot tell it apart.
      const noisy = node.source === 'AUTOSLIM' && node.macs === cheapestAutoSlim;
      const top1 = 0.6 + node.macs / 5e7 + (node.source === 'AUTOSLIM' ? 0.03 : 0);
      const effects = noisy ? NOISY_SEEDS : node.source === 'AUTOSLIM' ? AUTOSLIM_SEEDS : BASELINE_SEEDS;
      retrainings += await retrain(node.id, effects.map((effect) => top1 + effect));
      if (node.source === 'AUTOSLIM') retrainings += await retrain(node.id, [top1 + 0.01, top1 + 0.014], 'SUPERNET');
    }
    await eventually(async () => {
      const { jobs } = await server.gql(`query($p: ID!) { jobs(filter: { projectId: $p, state: SUCCEEDED }) { id } }`, { p: projectId });
      // Training, slimming, the evaluation of the inherited accuracy that slimming queues, and the retrainings.
      return jobs.length === 3 + retrainings ? true : undefined;
    });
  }

  /** Retrains a candidate with one seed per top-1 given (seeds 0, 1, …); answers how many jobs that took. */
  async function retrain(candidateId: string, top1s: number[], init: 'SCRATCH' | 'SUPERNET' = 'SCRATCH'): Promise<number> {
    const { retrainCandidate: jobs } = await server.gql(
      `mutation($c: ID!, $d: ID!, $seeds: [Int!]!, $init: RetrainInit!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: $seeds, init: $init }) { id payload } }`,
      { c: candidateId, d: datasetId, seeds: top1s.map((_, seed) => seed), init },
    );
    for (const [seed, job] of (jobs as { id: string; payload: { runId: string } }[]).entries()) {
      answered.add(job.id);
      const ctx = await plugin.whenStarted(job.id);
      await ctx.report({ type: 'runSummary', runId: job.payload.runId, summary: { top1: top1s[seed] } });
      plugin.finish(job.id);
    }
    return jobs.length;
  }

  async function shoot(name: string): Promise<void> {
    await page.waitForTimeout(300); // lets ECharts finish drawing its canvas
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** The texts of one leaderboard column, found by its header. */
  async function column(title: string): Promise<string[]> {
    const headers = await page.locator('table.candidates thead th').allTextContents();
    const index = headers.findIndex((header) => header.trim().startsWith(title));
    if (index < 0) throw new Error(`no column ${title} among ${headers.join(', ')}`);
    return page.locator(`table.candidates tbody tr[data-candidate] > td:nth-child(${index + 1})`).allTextContents();
  }

  function visit(view: string, params: Record<string, string> = {}): Promise<unknown> {
    const query = new URLSearchParams({ project: projectId, space: space.id, ...params });
    return page.goto(`${server.url}/#/${view}?${query}`);
  }

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(SCREENSHOTS, { recursive: true });
    plugin = new ScriptedPlugin(['TRAIN_SUPERNET', 'SLIM', 'RETRAIN']);
    server = await TestServer.start('sqlite', [plugin, new ScriptedPlugin(['EVALUATE'], async (job) => evaluate(job.payload as EvaluatePayload), 'scripted-evaluate')]);
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
    const rows = page.locator('table.candidates tbody tr[data-candidate]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(9);
    await expect(page.locator('.pager span').textContent()).resolves.toBe('1–9 of 9');
    await page.getByText('Pareto rank over MACs vs retrained top-1').waitFor();
    const ranks = await column('Pareto rank');
    expect(new Set(ranks)).toEqual(new Set(['1', '2']));
    // Every row has an id a user can paste: the first 8 characters of its UUID.
    const ids = await page.locator('table.candidates tbody tr[data-candidate]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-candidate')!.slice(0, 8)));
    expect(await column('ID')).toEqual(ids.map((id) => `${id} copy`));
    // Every accuracy column says which split and which weights it is.
    expect(await page.locator('table.candidates th', { hasText: 'Retrained top-1' }).locator('.basis').textContent()).toBe('test · retrained from scratch');
    expect(await page.locator('table.candidates th', { hasText: 'Search acc.' }).locator('.basis').textContent()).toBe('search hold-out · supernet weights');

    // Each budget's AutoSlim pick, next to its uniform baseline and the difference.
    const budgets = page.locator('table.budgets tbody tr');
    expect(await budgets.count()).toBe(2);
    expect(await budgets.locator('td:first-child').allTextContents()).toEqual(['≤ 4 M MACs', '≤ 7 M MACs']);
    for (const text of await budgets.locator('td:nth-child(4)').allTextContents()) expect(text).toMatch(/^[0-9a-f]{8} · ×\d\.\d{3} uniform · [\d.]+ M MACs$/);
    for (const text of await budgets.locator('td:last-child').allTextContents()) expect(text).toMatch(/^(better|not distinguishable) [+−]\d+\.\d\d ± \d+\.\d\d pts \(n=3\)$/);

    const sources = await column('Source');
    const autoslim = (cells: string[]) => cells.filter((_, i) => sources[i] === 'AutoSlim');
    // The search accuracy says the BN mode the trajectory scored it under.
    expect(autoslim(await column('Search acc.'))).toEqual([expect.stringMatching(/^\d+\.\d\d%BN from the batch$/), expect.stringMatching(/^\d+\.\d\d%BN from the batch$/)]);
    for (const cell of await column('Retrained top-1')) expect(cell).toMatch(/^\d+\.\d\d% ± \d\.\d\d \(n=3\)$/);
    // Slimming queued the evaluation of its candidates sliced from the supernet: only they have an inherited accuracy.
    expect(autoslim(await column('Inherited top-1'))).toEqual([expect.stringMatching(/^\d+\.\d\d%$/), expect.stringMatching(/^\d+\.\d\d%$/)]);
    expect(autoslim(await column('Fine-tuned top-1'))).toEqual([expect.stringMatching(/ \(n=2\)$/), expect.stringMatching(/ \(n=2\)$/)]);
    expect(new Set((await column('Fine-tuned top-1')).filter((_, i) => sources[i] !== 'AutoSlim'))).toEqual(new Set(['—']));
    const verdicts = autoslim(await column('vs uniform width'));
    expect(verdicts.map((v) => v.replace(/ [+−].*$/, '')).sort()).toEqual(['better', 'not distinguishable']);
    for (const verdict of verdicts) expect(verdict).toMatch(/ [+−]\d+\.\d\d ± \d+\.\d\d pts \(n=3\) vs ×\d\.\d{3} uniform$/);
    const explanation = await page.locator('.comparison').first().getAttribute('title');
    expect(explanation).toContain('paired by seed');
    expect(await page.locator('th', { hasText: 'vs uniform width' }).getAttribute('title')).toContain('95% t-interval');
    await shoot('leaderboard');

    const macsColumn = () => column('MACs');
    const ascending = await macsColumn();
    await page.getByRole('button', { name: /^MACs/ }).click();
    await page.locator('table.candidates tbody tr:first-child td:nth-child(6)', { hasText: ascending.at(-1)! }).waitFor();
    expect(await macsColumn()).toEqual([...ascending].reverse());

    await page.getByLabel('Max MACs (M)').fill('4');
    await page.getByRole('button', { name: 'Apply budget' }).click();
    await page.locator('.pager span', { hasText: '1–4 of 4' }).waitFor();
    await page.getByLabel('Max MACs (M)').fill('cheap');
    await page.getByRole('button', { name: 'Apply budget' }).click();
    await page.getByText('The budget must be a positive number of millions of MACs.').waitFor();
  });

  it('draws the Pareto plot, the trajectory, a unit chart and a layer-by-layer comparison', async () => {
    await visit('pareto');
    await page.getByText(/^Plotted: retrained top-1 \(test split, retrained from scratch, mean over seeds\) against MACs, for 9 of 9 candidates/).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await page.getByRole('img', { name: /with the Pareto front and error bars over seeds for 9 candidates$/ }).waitFor();
    expect(await page.locator('.unplotted').count()).toBe(0);
    await shoot('pareto');
    // Search accuracy: only the two AutoSlim candidates have one; the seven others are listed, not dropped.
    await page.getByLabel('search accuracy (2 of 9)').check();
    await page.getByText(/^Plotted: search accuracy \(search hold-out split, supernet weights, BN from the batch\) against MACs, for 2 of 9 candidates/).waitFor();
    await page.getByRole('heading', { name: 'Not plotted: 7 candidates have no search accuracy' }).waitFor();
    expect(await page.locator('.unplotted tbody tr').count()).toBe(7);
    // The axis frames the two points (65% and 72.5%) rather than spanning 20–120%.
    await page.getByRole('img', { name: /^search accuracy \(axis 62\.00% to 76\.00%\) versus MACs/ }).waitFor();
    await shoot('pareto-search');

    await visit('trajectory', { trajectory: trajectoryId });
    await page.locator('.step-count', { hasText: '5 steps' }).waitFor();
    await page.getByText(/Step 4 \(slimmed/).waitFor();
    // The charts mount after the step list; counting at once raced them on a busy machine.
    await page.locator('.chart canvas').nth(1).waitFor();
    expect(await page.locator('.chart canvas').count()).toBe(2);
    await shoot('trajectory');

    await visit('leaderboard');
    await page.locator('table.candidates tbody tr').first().waitFor();
    await page.locator('table.candidates tbody input[type=checkbox]').nth(0).check();
    await page.locator('table.candidates tbody input[type=checkbox]').nth(6).check();
    await page.getByRole('button', { name: 'Compare selected (2/2)' }).click();
    await page.locator('.compare-table').waitFor();
    expect(await page.locator('.compare-table tbody tr.unit').count()).toBe(space.units.length);
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
    await page.locator('figure[data-metric=loss] figcaption', { hasText: 'Training loss: 1.500 at step 2 · 3 points stored' }).waitFor();
    await ctx.report({ type: 'metrics', runId, points: [3, 4].map((step) => ({ name: 'loss', step, value: 2 - step / 4 })) });
    await page.locator('figure[data-metric=loss] figcaption', { hasText: 'Training loss: 1.000 at step 4 · 5 points stored' }).waitFor();
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
    // The supernet page stops saying "live" once its run has ended.
    await visit('supernet', { supernet: training.payload.supernetId });
    await page.locator('.run-status', { hasText: 'cancelled' }).waitFor();
    await page.locator('figure[data-metric=loss]').waitFor();
    expect(await page.locator('.live').count()).toBe(0);
    await visit('jobs');
    await row.waitFor();
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
    await pager.filter({ hasText: '1–50 of 59' }).waitFor();
    expect(await page.locator('table.candidates tbody tr').count()).toBe(50);
    await page.getByRole('button', { name: 'Next →' }).click();
    await pager.filter({ hasText: '51–59 of 59' }).waitFor();
    expect(await page.locator('table.candidates tbody tr').count()).toBe(9);
    expect(await page.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '← Previous' }).click();
    await pager.filter({ hasText: '1–50 of 59' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('shows how well the supernet ranks configurations, live while its study runs', async () => {
    const { studyRanking: study } = await server.gql(
      `mutation($s: ID!) { studyRanking(input: { supernetId: $s, seeds: [0, 1, 2], recipe: {}, sampledConfigs: 6, evalBatchSize: 32, calibrationImages: 256 }) {
        id configs { origin } jobs { kind state } } }`,
      { s: supernetId },
    );
    const configs = (study.configs as { origin: string }[]).length;
    const jobs = (study.jobs as { kind: string; state: string }[]).filter((j) => j.kind === 'RETRAIN' && j.state !== 'SUCCEEDED');
    // The uniform and AutoSlim configurations were retrained with these seeds and this recipe for the
    // leaderboard: the study reuses those runs and queues only the sampled ones'.
    expect(jobs.length).toBe(3 * (study.configs as { origin: string }[]).filter((c) => c.origin === 'SAMPLED').length);

    await visit('supernet', { supernet: supernetId });
    // A finished run: its accuracy in percent, and nothing that claims to be live.
    await page.locator('figure[data-metric=top1] figcaption', { hasText: 'Top-1: 67.67% at step 39 · 40 points stored' }).waitFor();
    // The widest and the narrowest config's loss share one chart.
    expect(await page.locator('figure[data-metric=loss] .metric-last').allTextContents()).toEqual([
      'Training loss, widest: 0.1708 at step 39 · 40 points stored',
      'Training loss, narrowest: 0.3272 at step 39 · 40 points stored',
    ]);
    expect(await page.locator('figure.metric').count()).toBe(2);
    expect(await page.locator('.live').count()).toBe(0);
    const listed = page.locator(`tr[data-study="${study.id}"] a`, { hasText: `Ranking of ${configs} configs` });
    await listed.waitFor();
    await shoot('supernet-studies');
    await listed.click();
    await page.getByRole('heading', { name: 'Ranking study' }).waitFor();
    const progress = page.locator('.progress-text');
    await progress.waitFor();
    // One worker runs the jobs in turn, so the evaluation may come before the retrainings or after them.
    const before = await progress.textContent();
    expect(before).toMatch(new RegExp(`^\\d+ of ${configs} configs retrained \\(\\d+ with all 3 seeds\\) · (0|${configs}) of ${configs} scored by the supernet$`));
    await finishRetrainings(Math.floor(jobs.length / 2));
    await progress.filter({ hasNotText: before! }).waitFor();
    await page.locator('.live', { hasText: 'live' }).waitFor();
    await shoot('ranking-running');

    await finishRetrainings(jobs.length - Math.floor(jobs.length / 2));
    await page.locator('.study-state', { hasText: 'complete' }).waitFor();
    await progress.filter({ hasText: `${configs} of ${configs} configs retrained (${configs} with all 3 seeds)` }).waitFor();
    for (const mode of ['BATCH_STATS', 'RECALIBRATED']) {
      const figure = page.locator(`figure.ranking[data-bn-mode=${mode}]`);
      await figure.getByRole('img', { name: new RegExp(`: ${configs} configs, ${configs} with error bars over seeds$`) }).waitFor();
      expect(await figure.locator('.correlation').textContent()).toMatch(
        new RegExp(`^τ = -?\\d\\.\\d\\d \\[-?\\d\\.\\d\\d, -?\\d\\.\\d\\d\\] · ρ = .* · ${configs} configs \\(95% intervals\\)$`),
      );
    }
    const rows = page.locator('table.study-configs tbody tr');
    expect(await rows.count()).toBe(configs);
    expect(new Set(await rows.locator('td:nth-child(2)').allTextContents())).toEqual(new Set(['sampled', 'uniform width', 'AutoSlim']));
    for (const cell of await rows.locator('td:last-child').allTextContents()) expect(cell).toMatch(/ \(n=3\)$/);
    await shoot('ranking');
    expect(pageErrors).toEqual([]);
  });

  it('keeps plotting the accuracy most candidates have when one retraining finishes, lists the others, and flags a single seed', async () => {
    const { createSearchSpace: second } = await server.gql(
      `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "mbv2 again", architecture: "mbv2-fmnist", maxWidth: 1.0 }) { id } }`,
      { p: projectId },
    );
    const training = await trainSupernet(server, second.id, datasetId, 'second supernet');
    const trainCtx = await plugin.whenStarted(training.id);
    await trainCtx.report({ type: 'checkpoint', runId: training.payload.runId, step: 0, artifact: await trainCtx.artifacts.put('CHECKPOINT', 'supernet', Buffer.from('w')) });
    plugin.finish(training.id);
    const { startSlimming: slim } = await server.gql(
      `mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [7000000, 4000000], evalBatchSize: 16 }) { id subjectId } }`,
      { s: training.payload.supernetId },
    );
    const slimCtx = await plugin.whenStarted(slim.id);
    for (const [index, fraction] of [1, 0.75, 0.5].entries()) {
      const channels = await reportStep(slimCtx, slim.subjectId, index, fraction);
      const { macs } = await profileOf(channels);
      const target = [4e6, 7e6].find((t) => macs <= t);
      if (index > 0 && target !== undefined) {
        await slimCtx.report({ type: 'candidate', trajectoryId: slim.subjectId, target, channels, searchAccuracy: 0.5 + 0.3 * fraction, step: index });
      }
    }
    plugin.finish(slim.id);
    await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.35, 0.5] }) { id } }`, { s: second.id });
    const { candidates } = await server.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s, source: AUTOSLIM }) { edges { node { id } } } }`, { s: second.id });
    expect(candidates.edges).toHaveLength(2);
    await retrain(candidates.edges[0].node.id, [0.7]);

    await visit('pareto', { space: second.id });
    // Before, one finished retraining switched the plot to retrained top-1 and showed "1 of 4 candidates".
    await page.getByText(/^Plotted: search accuracy \(.*\) against MACs, for 2 of 4 candidates/).waitFor();
    expect(await page.getByLabel('retrained top-1 (1 of 4)').isChecked()).toBe(false);
    await page.getByRole('heading', { name: 'Not plotted: 2 candidates have no search accuracy' }).waitFor();
    await shoot('pareto-one-retraining');
    await page.getByLabel('retrained top-1 (1 of 4)').check();
    await page.getByRole('heading', { name: 'Not plotted: 3 candidates have no retrained top-1' }).waitFor();
    // One point at 70%: an axis of a few percent around it, not 20–120%.
    await page.getByRole('img', { name: /^retrained top-1 \(axis 68\.00% to 72\.00%\) versus MACs/ }).waitFor();

    await visit('leaderboard', { space: second.id });
    await page.locator('table.candidates td', { hasText: '70.00% (n=1, one seed: no interval)' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  /** Finishes the next `count` retrainings the worker starts, at a top-1 that grows with the config's MACs. */
  async function finishRetrainings(count: number): Promise<void> {
    for (let finished = 0; finished < count; finished++) {
      const job = await eventually(async () => plugin.runs.find((r) => r.kind === 'RETRAIN' && !answered.has(r.id)));
      answered.add(job.id);
      const payload = job.payload as { runId: string; channels: number[]; candidateId: string; recipe: { seed: number } };
      const { macs } = await profileOf(payload.channels);
      const top1 = 0.6 + macs / 5e7 + BASELINE_SEEDS[payload.recipe.seed]! + 0.01 * jitter(payload.candidateId);
      const ctx = await plugin.whenStarted(job.id);
      await ctx.report({ type: 'runSummary', runId: payload.runId, summary: { top1 } });
      plugin.finish(job.id);
    }
  }
});
