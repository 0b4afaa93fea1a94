import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCore } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createMetrics } from '../../src/runner/metrics.ts';
import { ensureDefaultOrganization } from '../../src/services/bootstrap.ts';
import type { Core } from '../../src/services/context.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

// The runner's gauges of waiting and running work, read from the store on each scrape.

describe('runner metrics', () => {
  let core: Core;
  let database: TestDatabase<PgTestConfig>;
  let dataDir: string;
  let organizationId: string;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-metrics-'));
    database = await createPgDatabase();
    core = await openCore({ ...loadConfig({}), dataDir, databaseUrl: database.url, logLevel: 'silent' });
    await core.queue.start();
    organizationId = await ensureDefaultOrganization(core.store.db);
  });
  after(async () => {
    await core?.queue.stop();
    await core?.store.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = (kind: string, status: string, columns: Record<string, string>) =>
    core.store.sql.query(
      `insert into executions (organization_id, sync_kind, sync_id, status, ${Object.keys(columns).join(', ')})
       values ($1, $2, $3, $4, ${Object.values(columns).join(', ')})`,
      [organizationId, kind, randomUUID(), status],
    );
  const value = (metrics: string, series: string) => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} in\n${metrics}`);
    return Number(line.slice(series.length + 1));
  };

  it('reports queue depth, the oldest queued run and the stalest heartbeat by sync kind', async () => {
    await run('bulk', 'queued', { updated_at: "now() - interval '2 minutes'" });
    await run('bulk', 'queued', { updated_at: "now() - interval '10 seconds'" });
    await run('model', 'running', {
      started_at: "now() - interval '5 minutes'",
      heartbeat_at: "now() - interval '40 seconds'",
    });
    await run('model', 'running', { started_at: 'now()', heartbeat_at: 'now()' });
    await core.queue.enqueue('bulksync', { organizationId, executionId: randomUUID() });

    const metrics = await createMetrics(core).render();
    assert.equal(value(metrics, 'ferry_runs_queued{kind="bulk"}'), 2);
    assert.equal(value(metrics, 'ferry_runs{kind="model",status="running"}'), 2);
    const oldest = value(metrics, 'ferry_oldest_queued_run_age_seconds{kind="bulk"}');
    assert.ok(oldest >= 120 && oldest < 3600, `oldest queued ${oldest}`);
    assert.equal(value(metrics, 'ferry_oldest_queued_run_age_seconds{kind="model"}'), 0);
    const heartbeat = value(metrics, 'ferry_run_heartbeat_age_seconds{kind="model"}');
    assert.ok(heartbeat >= 40 && heartbeat < 300, `heartbeat age ${heartbeat}`);
    assert.equal(value(metrics, 'ferry_run_heartbeat_age_seconds{kind="bulk"}'), 0);
    assert.ok(value(metrics, 'ferry_jobs_queued{queue="bulksync"}') >= 0);
  });
});
