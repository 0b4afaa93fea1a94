import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, ensureWebBuild, launchBrowser, stepsWithScreenshots } from '../support/browser.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';

// The model sync pages in a real chromium against a real `ferry serve`: a PostgreSQL model pushed
// into a PostgreSQL table, set up through the API, then run and followed from the dashboard.
// Screenshots go to test-artifacts/model-syncs/.

const runTimeout = 180_000;

describe('web dashboard: model syncs', () => {
  let ferry: FerryProcess;
  let browser: Browser;
  let page: Page;
  let source: TestDatabase<PgTestConfig>;
  let target: TestDatabase<PgTestConfig>;
  let syncId: string;
  const shot = (name: string) => browser.screenshot(page, 'model-syncs', name);
  const step = stepsWithScreenshots(shot);
  /** The label → value pairs of the page's field lists. */
  const fieldsShown = async (): Promise<Record<string, string>> =>
    Object.fromEntries(
      await page
        .locator('dl.fields > div')
        .evaluateAll((items) =>
          items.map((d) => [d.querySelector('dt')?.textContent, d.querySelector('dd')?.textContent]),
        ),
    );
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await http(ferry.url, method, `/api${route}`, { key: ferry.adminKey, body });
    assert.equal(res.status, 200, `${method} ${route}: ${JSON.stringify(res.body)}`);
    return res.body.data;
  };

  before(async () => {
    ensureWebBuild();
    [ferry, source, target, browser] = await startAll([
      startFerry(),
      createPgDatabase(),
      createPgDatabase(),
      launchBrowser(),
    ]);
    await source.query(`create table people (id int primary key, email text not null, name text);
      insert into people select g, 'p' || g || '@x.io', 'person ' || g from generate_series(1, 25) g`);
    await target.query('create table contacts (id int primary key, email text, name text)');
    const [src, dst] = await Promise.all(
      [
        ['crm source', source],
        ['crm target', target],
      ].map(([name, db]) =>
        api('POST', '/connections', {
          name,
          type: 'postgresql',
          configuration: (db as TestDatabase<PgTestConfig>).config,
        }),
      ),
    );
    const model = await api('POST', '/models', {
      name: 'people',
      connection_id: src.id,
      configuration: { query: 'select id, email, name from people' },
      identifier: 'id',
    });
    const field = (name: string) => ({ source: { model_id: model.id, field: name }, target: name });
    const sync = await api('POST', '/syncs', {
      name: 'people to contacts',
      mode: 'updateOrCreate',
      schedule: { frequency: 'manual' },
      target: { connection_id: dst.id, object: 'public.contacts' },
      fields: ['id', 'email', 'name'].map(field),
      identity: { source: { model_id: model.id, field: 'id' }, target: 'id', function: 'Equality' },
    });
    syncId = sync.id;
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await ferry?.stop();
    await Promise.all([source?.drop(), target?.drop()]);
  });

  step('lists the model sync and shows its configuration and field mappings', async () => {
    await page.goto(`${ferry.url}/`);
    await page.getByLabel('API key').fill(ferry.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Model syncs' }).click();
    const row = page.getByRole('row').filter({ hasText: 'people to contacts' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /crm target.*public\.contacts.*updateOrCreate.*manual/);
    assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'never run');
    await shot('01-model-syncs');
    await row.getByRole('link', { name: 'people to contacts' }).click();
    await page.getByRole('heading', { name: 'people to contacts' }).waitFor();
    assert.match(page.url(), new RegExp(`/model-syncs/${syncId}$`));
    await page.getByRole('link', { name: 'crm target' }).waitFor();
    const shown = await fieldsShown();
    assert.equal(shown.Models, 'people', 'the model by its name');
    assert.equal(shown.Identity, 'id Equality id');
    const mappings = await page.locator('table tbody tr').allTextContents();
    assert.deepEqual(mappings, ['ididalways', 'emailemailalways', 'namenamealways']);
    await page.getByRole('heading', { name: 'No runs yet' }).waitFor();
    await shot('02-model-sync-detail');
  });

  step('starts a run from the dashboard and watches it complete with its counts', async () => {
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: runTimeout });
    const fields = await fieldsShown();
    assert.equal(fields.Records, '25');
    assert.equal(fields.Inserted, '25');
    assert.equal(fields.Updated, '0');
    assert.equal(fields.Errors, '0');
    const [copied] = await target.query('select count(*)::int as n from contacts');
    assert.equal(copied.n, 25);
    await shot('03-model-run-completed');
  });

  step('shows the console log of the run', async () => {
    const log = page.getByTestId('console-log');
    await log.filter({ hasText: 'execution completed' }).waitFor();
    assert.doesNotMatch((await log.textContent()) ?? '', /No log lines yet/);
    await page.getByRole('heading', { name: 'Record logs' }).waitFor();
    await shot('04-model-run-console-log');
  });

  step('lists the run on the sync page and in the runs timeline', async () => {
    await page.getByRole('link', { name: '← back to the sync' }).click();
    const run = page.locator('.timeline li').filter({ has: page.locator('[data-status="completed"]') });
    await run.waitFor();
    assert.match((await run.textContent()) ?? '', /25 rows/);
    assert.equal(await page.locator('figure.chart svg rect').count(), 1, 'the chart draws the run');
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('.timeline li').filter({ hasText: 'people to contacts' }).waitFor();
    await shot('05-runs');
  });
});
