import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, ensureWebBuild, launchBrowser, stepsWithScreenshots } from '../support/browser.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase, uniqueName } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';

// The dashboard in a real chromium against a real `ferry serve` and PostgreSQL: sign in, create
// connections, create and run a bulk sync, read its console log, cancel a long run.
// Screenshots go to test-artifacts/dashboard/.

const runTimeout = 180_000;

describe('web dashboard', () => {
  let ferry: FerryProcess;
  let browser: Browser;
  let page: Page;
  let source: TestDatabase<PgTestConfig>;
  let destination: TestDatabase<PgTestConfig>;
  /** A login role subject to row security: what reads slow_events slowly. */
  const slowReader = uniqueName('ferry_slow');
  const shot = (name: string) => browser.screenshot(page, 'dashboard', name);
  const status = (word: string) => page.locator(`h1 [data-status="${word}"]`);
  const step = stepsWithScreenshots(shot);

  before(async () => {
    ensureWebBuild();
    [ferry, source, destination, browser] = await startAll([
      startFerry(),
      createPgDatabase(),
      createPgDatabase(),
      launchBrowser(),
    ]);
    await source.query(`
      create table orders (id int primary key, item text not null, qty int not null);
      insert into orders select g, 'item ' || g, g % 9 from generate_series(1, 1000) g;
      create table customers (id int primary key, name text);
      insert into customers select g, 'customer ' || g from generate_series(1, 50) g;
      -- The long run to watch and cancel: a table with a row estimate (analyzed) that takes minutes to
      -- read for a role under row security, whose policy pauses at every hundredth row.
      create table slow_events (id int primary key, payload text not null);
      insert into slow_events select g, 'event ' || g from generate_series(1, 1000000) g;
      analyze slow_events;
      create function slow_pass(id int) returns boolean language plpgsql as $$
        begin
          if id % 100 = 0 then perform pg_sleep(0.01); end if;
          return true;
        end $$;
      alter table slow_events enable row level security;
      create policy slow_read on slow_events for select using (slow_pass(id));
      create role ${slowReader} login;
      grant select on slow_events to ${slowReader};`);
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await ferry?.stop();
    await source?.query(`drop owned by ${slowReader}; drop role ${slowReader}`);
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it('serves the dashboard at / without shadowing the API paths', async () => {
    const home = await fetch(`${ferry.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /<div id="root"><\/div>/);
    const deepLink = await fetch(`${ferry.url}/bulk-syncs/123`, { headers: { accept: 'text/html' } });
    assert.match(await deepLink.text(), /<div id="root"><\/div>/, 'client routes get the app');
    for (const route of ['/api/no-such-thing', '/v1/nope', '/workspaces/x/nope', '/docs/nope']) {
      const res = await http(ferry.url, 'GET', route, {
        key: ferry.adminKey,
        headers: { accept: 'text/html' },
      });
      assert.equal(res.status, 404, route);
      assert.equal(typeof res.body, 'object', `${route} answers JSON`);
    }
    const asset = await http(ferry.url, 'GET', '/missing.js', { headers: { accept: '*/*' } });
    assert.equal(asset.status, 404, 'a missing file is not answered with the app');
    assert.equal((await http(ferry.url, 'GET', '/healthz')).body.status, 'ok');
    const traversal = await fetch(`${ferry.url}/..%2f..%2fpackage.json`, { headers: { accept: '*/*' } });
    assert.equal(traversal.status, 404);
  });

  step('signs in with an API key and explains a rejected one', async () => {
    await page.goto(`${ferry.url}/`);
    await page.getByLabel('API key').fill('fy_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    await shot('01-sign-in-rejected');
    await page.getByLabel('API key').fill(ferry.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No bulk syncs yet' }).waitFor();
    assert.match((await page.locator('.empty').textContent()) ?? '', /Create a connection/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ferry.apiKey')), ferry.adminKey);
    await shot('02-empty-bulk-syncs');
  });

  async function createConnection(name: string, config: PgTestConfig) {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'New connection' }).click();
    await page.getByLabel('Type').selectOption('postgresql');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Hostname').fill(config.hostname);
    await page.getByLabel('Port').fill(String(config.port));
    await page.getByLabel('Database').fill(config.database);
    await page.getByLabel('Username').fill(config.username);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Connection test succeeded').waitFor();
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('heading', { name }).waitFor();
  }

  step('tests a PostgreSQL connection before saving it, then lists its tables and fields', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('heading', { name: 'No connections yet' }).waitFor();
    await page.getByRole('button', { name: 'New connection' }).click();
    await page.getByLabel('Name', { exact: true }).fill('broken');
    await page.getByLabel('Hostname').fill(source.config.hostname);
    await page.getByLabel('Database').fill('no_such_database_here');
    await page.getByLabel('Username').fill(source.config.username);
    assert.equal(await page.getByRole('button', { name: 'Save connection' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const failure = page.getByRole('alert').filter({ hasText: 'connection test failed' });
    await failure.waitFor();
    assert.match((await failure.textContent()) ?? '', /no_such_database_here/);
    await shot('03-connection-test-failed');

    await createConnection('warehouse source', source.config);
    await page.getByRole('button', { name: /public\.orders/ }).click();
    await page.getByRole('cell', { name: 'qty', exact: true }).waitFor();
    await shot('04-connection-schemas');
    await createConnection('warehouse copy', destination.config);
  });

  step('creates and starts a bulk sync, and watches the run complete with its row counts', async () => {
    await page.getByRole('link', { name: 'Bulk syncs' }).click();
    await page.getByRole('button', { name: 'New bulk sync' }).click();
    await page.getByLabel('Name').fill('orders to warehouse');
    await page.locator('select[name="source"]').selectOption({ label: 'warehouse source (PostgreSQL)' });
    await page.locator('select[name="destination"]').selectOption({ label: 'warehouse copy (PostgreSQL)' });
    await page.getByLabel('Destination schema').fill('mirror');
    await page.getByRole('checkbox', { name: /public\.slow_events/ }).uncheck();
    await shot('05-bulk-sync-form');
    await page.getByRole('button', { name: 'Create bulk sync' }).click();
    await page.getByRole('heading', { name: 'orders to warehouse' }).waitFor();
    await page.getByRole('heading', { name: 'No runs yet' }).waitFor();

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await status('completed').waitFor({ timeout: runTimeout });
    await page.getByTestId('run-rows').filter({ hasText: '1,050' }).waitFor();
    const cells = (table: string) =>
      page.getByTestId('run-tables').locator(`[data-table="${table}"] td`).allTextContents();
    assert.deepEqual((await cells('public.orders')).slice(1, 4), ['completed', '1,000', '100%']);
    assert.deepEqual((await cells('public.customers')).slice(1, 4), ['completed', '50', '100%']);
    await page.getByTestId('console-log').filter({ hasText: 'execution completed' }).waitFor();
    await page.getByRole('button', { name: 'Export all logs' }).click();
    const archive = page.getByRole('status').filter({ hasText: 'The archive is ready' }).getByRole('link');
    await archive.waitFor({ timeout: runTimeout });
    const download = await fetch(new URL((await archive.getAttribute('href'))!, ferry.url));
    assert.equal(download.status, 200, 'the export link downloads the archive');
    assert.ok((await download.arrayBuffer()).byteLength > 0);
    await shot('06-run-completed');
    const [copied] = await destination.query('select count(*)::int as n from mirror.orders');
    assert.equal(copied.n, 1000);

    await page.getByRole('link', { name: '← back to the sync' }).click();
    await page.locator('.timeline [data-status="completed"]').waitFor();
    const syncId = page.url().split('/').at(-1);
    await page.getByRole('button', { name: 'Change' }).click();
    await page.getByLabel('Schedule').selectOption('daily');
    await page.getByLabel('At (UTC)').fill('02:30');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('daily at 02:30 UTC').waitFor();
    const saved = await http(ferry.url, 'GET', `/api/bulk/syncs/${syncId}`, {
      key: ferry.adminKey,
    });
    assert.deepEqual(saved.body.data.schedule, { frequency: 'daily', hour: '2', minute: '30' });
    assert.equal(saved.body.data.destination_configuration.schema, 'mirror', 'other settings are kept');
    assert.equal(await page.locator('figure.chart svg rect').count(), 1, 'the chart draws the run');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('button', { name: 'Activate' }).waitFor();
    await page.locator('h1 .badge', { hasText: 'inactive' }).waitFor();
    assert.equal(
      (await http(ferry.url, 'GET', `/api/bulk/syncs/${syncId}`, { key: ferry.adminKey })).body.data.active,
      false,
    );
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('button', { name: 'Deactivate' }).waitFor();
    await shot('07-sync-detail');
  });

  step('shows a running table against its row estimate with an ETA, then cancels the run', async () => {
    const connections: any[] = (await http(ferry.url, 'GET', '/api/connections', { key: ferry.adminKey }))
      .body.data;
    const dst = connections.find((c) => c.name === 'warehouse copy');
    const src = await http(ferry.url, 'POST', '/api/connections', {
      key: ferry.adminKey,
      body: {
        name: 'slow reader',
        type: 'postgresql',
        configuration: { ...source.config, username: slowReader },
      },
    });
    assert.equal(src.status, 200, JSON.stringify(src.body));
    const created = await http(ferry.url, 'POST', '/api/bulk/syncs', {
      key: ferry.adminKey,
      body: {
        name: 'slow events',
        source_connection_id: src.body.data.id,
        destination_connection_id: dst.id,
        destination_configuration: { schema: 'slow' },
        schedule: { frequency: 'manual' },
        schemas: ['public.slow_events'],
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await page.getByRole('link', { name: 'Bulk syncs' }).click();
    await page.getByRole('link', { name: 'slow events' }).click();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await status('running').waitFor({ timeout: runTimeout });
    await page.getByTestId('console-log').filter({ hasText: 'public.slow_events' }).waitFor();
    const row = page.getByTestId('run-tables').locator('[data-table="public.slow_events"]');
    const progress = row.getByTestId('table-progress').filter({ hasText: /^\d+% · ETA \d/ });
    await progress.waitFor({ timeout: runTimeout });
    const percent = Number(await row.getByRole('progressbar').getAttribute('aria-valuenow'));
    assert.ok(percent >= 0 && percent < 100, `${percent}% of a table still running`);
    assert.match((await progress.textContent()) ?? '', new RegExp(`^${percent}% · ETA \\d`));
    await shot('08-long-run-running');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await status('canceled').waitFor({ timeout: runTimeout });
    await shot('09-long-run-canceled');
    const [present] = await destination.query(`select to_regclass('slow.slow_events') is not null as yes`);
    assert.equal(present.yes, false, 'the canceled run left no table behind');

    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('.timeline [data-status="canceled"]').waitFor();
    await page.locator('.timeline [data-status="completed"]').waitFor();
    await shot('10-runs');
  });
});
