import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createUser } from '../../server/auth/users';
import type { TestServer } from '../support/server';
import { ADA_PASSWORD, startAuthWorld, type AuthWorld } from './auth-world';
import { openBrowser, SCREENSHOTS } from './browser';
import { ensureWebBuild } from './build';

describe('API tokens and project members in a real browser, with authentication on', () => {
  let world: AuthWorld;
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  /** Read from the page once, when it is shown; the rest of the test proves what it can do. */
  let secret: string;

  async function signIn(on: Page, name: string, password: string): Promise<void> {
    await on.goto(server.url);
    await on.getByLabel('User name').fill(name);
    await on.getByLabel('Password').fill(password);
    await on.getByRole('button', { name: 'Sign in' }).click();
    await on.locator('header.top .account').getByText(name, { exact: true }).waitFor();
  }

  /** Who the API says a bearer token is, or the HTTP status that refused it. */
  async function viewerWith(token: string): Promise<{ status: number; name?: string }> {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    const body = (await response.json()) as { data?: { viewer: { name: string } } };
    return { status: response.status, name: body.data?.viewer.name };
  }

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(SCREENSHOTS, { recursive: true });
    world = await startAuthWorld('slimlab-account-');
    server = world.server;
    await createUser(server.server.orm, { name: 'bob', password: 'battery staple horse', admin: false });

    browser = await openBrowser();
    page = browser.page;
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it('creates a token, shows its secret once, and the secret signs API calls in as ada', async () => {
    await signIn(page, 'ada', ADA_PASSWORD);
    await page.locator('header.top .account').getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await page.getByText('No token yet.').waitFor();
    // ada is no admin: only the scopes she may grant are offered; 90 days is the default expiry.
    const scopes = page.getByRole('group', { name: 'Scopes' });
    expect(await scopes.getByRole('checkbox').count()).toBe(2);
    expect(await scopes.getByText('WORKER').count()).toBe(0);
    expect(await page.getByLabel('Expires in (days)').inputValue()).toBe('90');

    await page.getByLabel('Name', { exact: true }).fill('notebook');
    await scopes.getByLabel(/WRITE/).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByLabel('New token');
    await shown.waitFor();
    await page.getByText('This token will not be shown again.').waitFor();
    secret = await shown.inputValue();
    expect(secret).toMatch(/^slm_[A-Za-z0-9_-]{43}$/);
    expect(await shown.getAttribute('readonly')).not.toBeNull();
    const row = page.locator('tr[data-token]', { hasText: 'notebook' });
    await row.getByText('READ, WRITE').waitFor();
    await row.getByText(secret.slice(0, 8)).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'account-token-created.png'), fullPage: true });

    // Copy puts the secret on the clipboard; the page keeps it in no URL and no web storage.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    // Strings, because the tests compile without the DOM's types.
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    const kept = await page.evaluate<string>('[location.href, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join("\\n")');
    expect(kept).not.toContain(secret);

    expect(await viewerWith(secret)).toEqual({ status: 200, name: 'ada' });
  });

  it('forgets the secret when ada leaves the view, and revokes the token after asking', async () => {
    await page.locator('nav.views').getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: /Jobs/ }).waitFor();
    await page.locator('header.top .account').getByRole('link', { name: 'API tokens' }).click();
    const row = page.locator('tr[data-token]', { hasText: 'notebook' });
    await row.waitFor();
    expect(await page.getByLabel('New token').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('Stop “notebook” now?').waitFor();
    // Asking is not revoking: the token still works until ada confirms.
    expect((await viewerWith(secret)).status).toBe(200);
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.locator('tr[data-token][data-state=revoked]', { hasText: 'notebook' }).waitFor();
    expect(await row.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'account-token-revoked.png'), fullPage: true });

    expect((await viewerWith(secret)).status).toBe(401);
  });

  it('lets the owner add a member, and shows the server\'s refusals', async () => {
    await page.locator('nav.views').getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members of ada-project' }).waitFor();
    await page.locator('tr[data-member=ada][data-role=OWNER]').waitFor();

    // The last owner cannot step down: the server says why, and the list keeps ada an owner.
    await page.getByLabel('Role of ada').selectOption('EDITOR');
    await page.getByRole('alert').filter({ hasText: 'a project must keep at least one owner' }).waitFor();
    await page.locator('tr[data-member=ada][data-role=OWNER]').waitFor();
    expect(await page.getByLabel('Role of ada').inputValue()).toBe('OWNER');

    const add = page.getByRole('form', { name: 'Add a member' });
    await add.getByLabel('User name').fill('nobody');
    await add.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('alert').filter({ hasText: 'no user named "nobody"' }).waitFor();

    await add.getByLabel('User name').fill('bob');
    await add.getByLabel('Role').selectOption('VIEWER');
    await add.getByRole('button', { name: 'Add member' }).click();
    await page.locator('tr[data-member=bob][data-role=VIEWER]').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'account-members-owner.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows a viewer the members without edit controls', async () => {
    const bob = await openBrowser();
    try {
      bob.page.setDefaultTimeout(10_000);
      const bobErrors: string[] = [];
      bob.page.on('pageerror', (error) => bobErrors.push(error.message));
      await signIn(bob.page, 'bob', 'battery staple horse');
      await bob.page.locator('nav.views').getByRole('link', { name: 'Members' }).click();
      await bob.page.getByRole('heading', { name: 'Members of ada-project' }).waitFor();
      await bob.page.locator('tr[data-member=ada][data-role=OWNER]').getByText('owner').waitFor();
      await bob.page.locator('tr[data-member=bob][data-role=VIEWER]').getByText('viewer').waitFor();
      await bob.page.getByText('Your role here: viewer.').waitFor();
      expect(await bob.page.locator('section.members select').count()).toBe(0);
      expect(await bob.page.locator('section.members button').count()).toBe(0);
      expect(await bob.page.getByRole('form', { name: 'Add a member' }).count()).toBe(0);
      await bob.page.screenshot({ path: join(SCREENSHOTS, 'account-members-viewer.png'), fullPage: true });
      expect(bobErrors).toEqual([]);
    } finally {
      await bob.close();
    }
  });
});
