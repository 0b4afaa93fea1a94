import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nextRunAt } from '../../src/runner/schedule.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Events of runs and their webhooks, against a real server on the embedded store.

interface Received {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A webhook receiver that answers 500 to its first `failures` requests, then 200. */
async function startReceiver(failures: number) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const status = received.length < failures ? 500 : 200;
      received.push({ status, body, headers: req.headers });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function signatureValid(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=') as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  return (
    parts.v1 !== undefined &&
    parts.v1.length === expected.length &&
    timingSafeEqual(Buffer.from(parts.v1), Buffer.from(expected))
  );
}

describe('events and webhooks', () => {
  let ferry: FerryProcess;
  let source: TestDatabase<PgTestConfig>;
  let destination: TestDatabase<PgTestConfig>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const secret = 'whsec_0123456789abcdef';

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await http(ferry.url, method, route, { key: ferry.adminKey, body });
    assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body?.data;
  };
  const runToEnd = async (syncId: string) => {
    const run = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
    return until(
      () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`),
      (e) => !['created', 'scheduled', 'running', 'canceling'].includes(e.status),
      'the run',
    );
  };

  before(async () => {
    [source, destination] = await startAll([createPgDatabase(), createPgDatabase()]);
    await source.query(
      `create table items (id int primary key, name text); insert into items select g, 'i' || g from generate_series(1, 10) g`,
    );
    [ferry, receiver] = await startAll([startFerry(), startReceiver(2)]);
  });
  after(async () => {
    await ferry?.stop();
    await receiver?.close();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it('validates webhooks in the Polytomic error shape', async () => {
    const bad = await http(ferry.url, 'POST', '/api/webhooks', {
      key: ferry.adminKey,
      body: { endpoint: 'ftp://example.com', secret },
    });
    assert.equal(bad.status, 422);
    assert.match(bad.body.message, /endpoint/);
    const missing = await http(ferry.url, 'GET', '/api/webhooks/00000000-0000-4000-8000-000000000000', {
      key: ferry.adminKey,
    });
    assert.equal(missing.status, 404);
    const unknownType = await http(ferry.url, 'GET', '/api/events?type=nope', { key: ferry.adminKey });
    assert.equal(unknownType.status, 422);
  });

  it('delivers a run event once, signed, to a receiver that failed twice; lists it in /api/events', async () => {
    const hook = await call('POST', '/api/webhooks', { endpoint: receiver.url, secret });
    assert.equal(hook.disabled, false);
    assert.ok(!hook.secret.includes(secret.slice(0, 8)), 'the secret is not returned in full');
    const [src, dst] = await Promise.all([
      call('POST', '/api/connections', { name: 's', type: 'postgresql', configuration: source.config }),
      call('POST', '/api/connections', { name: 'd', type: 'postgresql', configuration: destination.config }),
    ]);
    const sync = await call('POST', '/api/bulk/syncs', {
      name: 'evented',
      mode: 'snapshot',
      source_connection_id: src.id,
      destination_connection_id: dst.id,
      destination_configuration: { schema: 'evented' },
      schedule: { frequency: 'manual' },
      schemas: ['public.items'],
    });
    const run = await runToEnd(sync.id);
    assert.equal(run.status, 'completed');

    const deliveries = await until(
      () => call('GET', `/api/webhooks/${hook.id}/deliveries`),
      (rows) => rows.length === 1 && rows[0].status === 'delivered',
      'the delivery',
    );
    assert.equal(deliveries[0].attempts, 3, 'two failures, then success');
    assert.equal(deliveries[0].event_type, 'bulk_sync.completed');
    const accepted = receiver.received.filter((r) => r.status === 200);
    assert.equal(accepted.length, 1, 'the event arrived once');
    assert.equal(receiver.received.length, 3);
    const body = accepted[0]!.body;
    assert.ok(signatureValid(secret, String(accepted[0]!.headers['x-ferry-signature']), body));
    assert.equal(
      signatureValid('another secret', String(accepted[0]!.headers['x-ferry-signature']), body),
      false,
    );
    const payload = JSON.parse(body);
    assert.equal(payload.type, 'bulk_sync.completed');
    assert.equal(payload.event.execution_id, run.id);
    assert.equal(payload.event.sync_name, 'evented');
    assert.equal(payload.event.record_count, 10);

    const listed = await call('GET', '/api/events?type=bulk_sync.completed');
    assert.deepEqual(
      listed.map((e: { id: string }) => e.id),
      [payload.id],
    );
    const types = await call('GET', '/api/events_types');
    for (const type of [
      'bulk_sync.completed',
      'bulk_sync.failed',
      'bulk_sync.canceled',
      'sync.completed_with_errors',
    ]) {
      assert.ok(types.includes(type), type);
    }

    // Disabled: the next run's event is recorded but not sent; the export notification arrives once enabled.
    await call('POST', `/api/webhooks/${hook.id}/disable`);
    await runToEnd(sync.id);
    const events = await until(
      () => call('GET', '/api/events?type=bulk_sync.completed'),
      (rows) => rows.length === 2,
      'the second event',
    );
    assert.equal((await call('GET', `/api/webhooks/${hook.id}/deliveries`)).length, 1);
    const page = await call('GET', `/api/events?type=bulk_sync.completed&starting_after=${events[0].id}`);
    assert.deepEqual(
      page.map((e: { id: string }) => e.id),
      [events[1].id],
    );
    await call('POST', `/api/webhooks/${hook.id}/enable`);
    await call('POST', `/api/bulk/syncs/${sync.id}/executions/${run.id}/logs/export?notify=true`);
    const exported = await until(
      () => call('GET', '/api/events?type=bulk_sync.logs_exported'),
      (rows) => rows.length === 1,
      'the export notification',
    );
    assert.match(exported[0].event.url, /^\/|^http/);
    await until(
      async () => receiver.received.filter((r) => r.status === 200).length,
      (n) => n === 2,
      'the export notification delivery',
    );
    // The receiver answers before Ferry records the delivery: wait for the record, which the metrics read.
    await until(
      () => call('GET', `/api/webhooks/${hook.id}/deliveries`),
      (rows) => rows.filter((r: { status: string }) => r.status === 'delivered').length === 2,
      'both deliveries recorded',
    );

    // Metrics come from the store: two completed bulk runs of 10 rows, the two deliveries and their attempts.
    const metrics = await (await fetch(`${ferry.url}/metrics`)).text();
    for (const line of [
      'ferry_runs{kind="bulk",status="completed"} 2',
      'ferry_rows_moved_total{kind="bulk"} 20',
      'ferry_run_duration_seconds_count{kind="bulk"} 2',
      'ferry_run_duration_seconds_bucket{kind="bulk",le="+Inf"} 2',
      'ferry_webhook_deliveries{status="delivered"} 2',
      'ferry_webhook_delivery_attempts_total 4',
      'ferry_oldest_queued_run_age_seconds{kind="bulk"} 0',
      '# TYPE ferry_run_duration_seconds histogram',
    ]) {
      assert.ok(
        metrics.includes(line),
        `${line} in\n${metrics
          .split('\n')
          .filter((l) => l.startsWith('ferry_r'))
          .join('\n')}`,
      );
    }
    await call('DELETE', `/api/webhooks/${hook.id}`);
    assert.equal((await call('GET', '/api/webhooks')).length, 0);
  });
  it('reports a model run as a sync.* event and webhook, and its schedule on the status route', async () => {
    const modelReceiver = await startReceiver(0);
    try {
      const hook = await call('POST', '/api/webhooks', { endpoint: modelReceiver.url, secret });
      await destination.query('create table model_items (id int primary key, name text)');
      const [src, dst] = await Promise.all([
        call('POST', '/api/connections', { name: 'ms', type: 'postgresql', configuration: source.config }),
        call('POST', '/api/connections', {
          name: 'md',
          type: 'postgresql',
          configuration: destination.config,
        }),
      ]);
      const model = await call('POST', '/api/models', {
        name: 'items',
        connection_id: src.id,
        configuration: { query: 'select id, name from items' },
      });
      const body = {
        name: 'items out',
        mode: 'updateOrCreate',
        target: { connection_id: dst.id, object: 'public.model_items' },
        fields: ['id', 'name'].map((field) => ({ source: { model_id: model.id, field }, target: field })),
        identity: { source: { model_id: model.id, field: 'id' }, target: 'id', function: 'Equality' },
        // New Year, 03:00 in New York: never due while this test runs.
        schedule: {
          frequency: 'custom',
          minute: '0',
          hour: '3',
          day_of_month: '1',
          month: '1',
          timezone: 'America/New_York',
        },
      };
      const badZone = await http(ferry.url, 'POST', '/api/syncs', {
        key: ferry.adminKey,
        body: { ...body, schedule: { ...body.schedule, timezone: 'Mars/Olympus' } },
      });
      assert.equal(badZone.status, 422);
      assert.match(badZone.body.message, /schedule\.timezone/);
      const sync = await call('POST', '/api/syncs', body);

      const status = await call('GET', `/api/syncs/${sync.id}/status`);
      assert.equal(status.next_execution_time, nextRunAt(body.schedule)!.toISOString());
      assert.match(status.next_execution_time, /-01-01T08:00:00/);

      const started = await call('POST', `/api/syncs/${sync.id}/executions`, {});
      const run = await until(
        () => call('GET', `/api/syncs/${sync.id}/executions/${started.id}`),
        (e) => !['created', 'queued', 'scheduled', 'running', 'canceling'].includes(e.status),
        'the model run',
      );
      assert.equal(run.status, 'completed');
      const listed = await until(
        () => call('GET', '/api/events?type=sync.completed'),
        (rows) => rows.length === 1,
        'the model run event',
      );
      assert.equal(listed[0].event.execution_id, started.id);
      assert.equal(listed[0].event.sync_id, sync.id);
      assert.equal(listed[0].event.sync_name, 'items out');
      assert.equal(listed[0].event.record_count, 10);
      await until(
        () => call('GET', `/api/webhooks/${hook.id}/deliveries`),
        (rows) => rows.length === 1 && rows[0].status === 'delivered',
        'the model run delivery',
      );
      assert.equal(modelReceiver.received.length, 1, 'the event arrived once');
      const payload = JSON.parse(modelReceiver.received[0]!.body);
      assert.equal(payload.type, 'sync.completed');
      assert.equal(payload.event.execution_id, started.id);
      assert.equal(payload.event.model_id, model.id);

      await call('DELETE', `/api/webhooks/${hook.id}`);
    } finally {
      await modelReceiver.close();
    }
  });
});
