import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// A model sync whose worker is killed with SIGKILL, or stopped with SIGTERM, mid-run: on restart the
// run resumes and sends only what had not landed, so an append target ends with every record exactly once.

describe('model sync faults', () => {
  let source: TestDatabase<PgTestConfig>;
  let target: TestDatabase<PgTestConfig>;

  before(async () => {
    [source, target] = await startAll([createPgDatabase(), createPgDatabase()]);
    // Slow enough to be killed in the middle: a pause every 1000 rows.
    await source.query(`create table events (id int primary key, body text);
      insert into events select g, 'event ' || g from generate_series(1, 30000) g`);
    await target.query(`create table events_out (seq bigserial, id int, body text);
      create table events_drained (seq bigserial, id int, body text)`);
  });

  after(async () => {
    await Promise.all([source?.drop(), target?.drop()]);
  });

  it('resumes an append run killed mid-way without duplicating or losing records', async () => {
    const first = await startFerry();
    const key = first.adminKey;
    const call = async (ferryUrl: string, method: string, route: string, body?: unknown) => {
      const response = await http(ferryUrl, method, route, { key, body });
      assert.ok(response.status < 300, `${method} ${route}: ${JSON.stringify(response.body)}`);
      return response.body?.data;
    };
    const sourceId = (
      await call(first.url, 'POST', '/api/connections', {
        name: 's',
        type: 'postgresql',
        configuration: source.config,
      })
    ).id;
    const targetId = (
      await call(first.url, 'POST', '/api/connections', {
        name: 't',
        type: 'postgresql',
        configuration: target.config,
      })
    ).id;
    const model = await call(first.url, 'POST', '/api/models', {
      name: 'events',
      connection_id: sourceId,
      configuration: {
        query: `select id, body from events, lateral (select case when id % 1000 = 0 then pg_sleep(0.3) end) nap order by id`,
      },
    });
    const sync = await call(first.url, 'POST', '/api/syncs', {
      name: 'append events',
      mode: 'append',
      schedule: { frequency: 'manual' },
      target: { connection_id: targetId, object: 'public.events_out' },
      fields: ['id', 'body'].map((field) => ({ source: { model_id: model.id, field }, target: field })),
      identity: { source: { model_id: model.id, field: 'id' }, target: 'id', function: 'Equality' },
    });
    const run = await call(first.url, 'POST', `/api/syncs/${sync.id}/executions`, {});
    for (let i = 0; i < 600; i++) {
      const [landed] = await target.query('select count(*)::int as n from events_out');
      if (landed.n >= 4000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const [partial] = await target.query('select count(*)::int as n from events_out');
    assert.ok(partial.n > 0 && partial.n < 30000, `killed mid-run (${partial.n} rows landed)`);

    const second = await startFerry({ dataDir: first.dataDir, env: { FERRY_API_KEY: key } });
    try {
      const execution = await until(
        () => call(second.url, 'GET', `/api/syncs/${sync.id}/executions/${run.id}`),
        (e) => ['completed', 'failed', 'interrupted', 'canceled'].includes(e.status),
        'the resumed run',
      );
      assert.equal(execution.status, 'completed', JSON.stringify(execution));
      // The resumed attempt sent only what had not landed.
      assert.equal(execution.counts.total, 30000 - partial.n);
      const [counts] = await target.query(
        'select count(*)::int as n, count(distinct id)::int as ids, sum(id)::bigint::text as total from events_out',
      );
      assert.deepEqual(counts, { n: 30000, ids: 30000, total: '450015000' });

      // A resync appends every record once more, also when it is killed mid-way: the attempt after
      // the kill does not send again what the killed one appended.
      const resync = await call(second.url, 'POST', `/api/syncs/${sync.id}/executions`, { resync: true });
      await until(
        async () => (await target.query('select count(*)::int as n from events_out'))[0].n,
        (n) => n >= 34000,
        'the resync half-way',
      );
      second.child.kill('SIGKILL');
      await new Promise((r) => second.child.once('exit', r));
      const third = await startFerry({ dataDir: first.dataDir, env: { FERRY_API_KEY: key } });
      try {
        const resynced = await until(
          () => call(third.url, 'GET', `/api/syncs/${sync.id}/executions/${resync.id}`),
          (e) => ['completed', 'failed', 'interrupted', 'canceled'].includes(e.status),
          'the resumed resync',
        );
        assert.equal(resynced.status, 'completed', JSON.stringify(resynced));
        const [twice] = await target.query(
          `select count(*)::int as n, count(distinct id)::int as ids,
             count(*) filter (where copies <> 2)::int as wrong
           from (select id, count(*) as copies from events_out group by id) c`,
        );
        assert.deepEqual(twice, { n: 30000, ids: 30000, wrong: 0 }, 'every record appended exactly twice');
        const log = await call(
          third.url,
          'GET',
          `/api/syncs/${sync.id}/executions/${resync.id}/consolelog?limit=50`,
        );
        assert.ok(
          log.entries.some((e: { message: string }) =>
            e.message.startsWith('an earlier attempt of this run forgot'),
          ),
        );
      } finally {
        await third.stop();
      }
    } finally {
      await second.stop();
      await first.stop();
    }
  });
  it('hands a run back on SIGTERM after the batch in flight; the restarted worker finishes it', async () => {
    const first = await startFerry();
    const key = first.adminKey;
    const call = async (ferryUrl: string, method: string, route: string, body?: unknown) => {
      const response = await http(ferryUrl, method, route, { key, body });
      assert.ok(response.status < 300, `${method} ${route}: ${JSON.stringify(response.body)}`);
      return response.body?.data;
    };
    const connection = async (name: string, db: TestDatabase<PgTestConfig>) =>
      (
        await call(first.url, 'POST', '/api/connections', {
          name,
          type: 'postgresql',
          configuration: db.config,
        })
      ).id as string;
    const [sourceId, targetId] = [await connection('s', source), await connection('t', target)];
    // A second per 1000 rows: the run lasts well past the 10 s grace period of a stop.
    const model = await call(first.url, 'POST', '/api/models', {
      name: 'slow events',
      connection_id: sourceId,
      configuration: {
        query: `select id, body from events, lateral (select case when id % 1000 = 0 then pg_sleep(1) end) nap order by id`,
      },
    });
    const sync = await call(first.url, 'POST', '/api/syncs', {
      name: 'append drained',
      mode: 'append',
      schedule: { frequency: 'manual' },
      target: { connection_id: targetId, object: 'public.events_drained' },
      fields: ['id', 'body'].map((field) => ({ source: { model_id: model.id, field }, target: field })),
      identity: { source: { model_id: model.id, field: 'id' }, target: 'id', function: 'Equality' },
    });
    const run = await call(first.url, 'POST', `/api/syncs/${sync.id}/executions`, {});
    for (let i = 0; i < 1200; i++) {
      const [landed] = await target.query('select count(*)::int as n from events_drained');
      if (landed.n > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGTERM');
    assert.equal(await new Promise((r) => first.child.once('exit', r)), 0, 'a graceful stop exits with 0');
    const [partial] = await target.query('select count(*)::int as n from events_drained');
    assert.ok(partial.n > 0 && partial.n < 30000, `stopped mid-run (${partial.n} rows landed)`);

    const second = await startFerry({ dataDir: first.dataDir, env: { FERRY_API_KEY: key } });
    try {
      const execution = await until(
        () => call(second.url, 'GET', `/api/syncs/${sync.id}/executions/${run.id}`),
        (e) => ['completed', 'failed', 'interrupted', 'canceled'].includes(e.status),
        'the resumed run',
      );
      assert.equal(execution.status, 'completed', JSON.stringify(execution));
      assert.equal(
        execution.counts.total,
        30000 - partial.n,
        'the second attempt sent only what had not landed',
      );
      const log = await call(
        second.url,
        'GET',
        `/api/syncs/${sync.id}/executions/${run.id}/consolelog?limit=100`,
      );
      const messages = (log.entries as { message: string }[]).map((e) => e.message);
      assert.equal(
        messages.filter((m) => m.startsWith('worker shut down: execution handed back')).length,
        1,
        messages.join('\n'),
      );
      // A graceful hand-back is not a lost attempt: both starts are attempt 1.
      assert.deepEqual(
        messages.filter((m) => m.startsWith('execution started')).map((m) => /attempt (\d+)/.exec(m)?.[1]),
        ['1', '1'],
      );
      const [counts] = await target.query(
        'select count(*)::int as n, count(distinct id)::int as ids, sum(id)::bigint::text as total from events_drained',
      );
      assert.deepEqual(counts, { n: 30000, ids: 30000, total: '450015000' });
    } finally {
      await second.stop();
      await first.stop();
    }
  });
});
