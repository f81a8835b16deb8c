import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { TestServer } from '../support/server';
import { ADA_PASSWORD, startAuthWorld, type AuthWorld } from './auth-world';
import { openBrowser, SCREENSHOTS } from './browser';
import { ensureWebBuild } from './build';

describe('web login in a real browser, with authentication on', () => {
  let world: AuthWorld;
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];

  async function signIn(password: string): Promise<void> {
    await page.getByLabel('User name').fill('ada');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    ensureWebBuild();
    world = await startAuthWorld('slimlab-login-');
    server = world.server;

    browser = await openBrowser();
    page = browser.page;
    page.setDefaultTimeout(10_000);
    // Only uncaught exceptions: the browser logs every 401 answer (a wrong password) as a console error.
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it('shows the login page, and no project, before anyone signs in', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('User name').waitFor();
    await page.getByLabel('Password').waitFor();
    expect(await page.getByText('ada-project').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'login.png') });
  });

  it('says so when the password is wrong, and lets the user try again', async () => {
    await signIn('wrong horse battery');
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'login-wrong.png') });
  });

  it('signs in to the projects the user may see, with the user in the header', async () => {
    await signIn(ADA_PASSWORD);
    await page.getByRole('heading', { name: 'Leaderboard' }).waitFor();
    await page.getByText('No candidates match.').waitFor();
    await page.locator('header.top select option', { hasText: 'ada-project' }).waitFor({ state: 'attached' });
    const account = page.locator('header.top .account');
    await account.getByText('ada', { exact: true }).waitFor();
    await account.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await page.getByText('local mode').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'login-signed-in.png') });

    // The cookie and /auth/session carry the session across a reload.
    await page.reload();
    await page.getByText('No candidates match.').waitFor();
    await account.getByText('ada', { exact: true }).waitFor();
  });

  it('signs out back to the login page, for good', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByText('Your session has ended').count()).toBe(0);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.locator('header.top').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
