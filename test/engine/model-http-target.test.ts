import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { HttpConfig } from '../../src/connectors/http/index.ts';
import type { MappedRecord } from '../../src/engine/model/plan.ts';
import { openHttpTarget, rejectedOf, retryAfterMs } from '../../src/engine/model/targets/http.ts';

const records: MappedRecord[] = ['1', '2', '3'].map((id) => ({ identity: id, values: [id], hash: id }));

/**
 * An updateOrCreate target of one `id` column. These tests look at the requests it sends: the store
 * that keeps the delivered hashes is a no-op stand-in (the e2e model sync tests run it for real).
 */
const openTarget = (config: HttpConfig) =>
  openHttpTarget({ store: { db: { execute: async () => ({}) } } } as never, config, {
    syncId: '00000000-0000-4000-8000-000000000000',
    object: 'records',
    mode: 'updateOrCreate',
    columns: ['id'],
    identityIndex: 0,
    signal: new AbortController().signal,
  });

describe('http model target: records a response refuses', () => {
  it('reads {"errors": [{"index", "message"}]}, ignoring entries that name no record', () => {
    const rejected = rejectedOf(
      records,
      JSON.stringify({
        errors: [{ index: 2, message: 'blocked' }, { index: 7 }, { index: '0', message: 'x' }],
      }),
    );
    assert.deepEqual(
      rejected.map((r) => [r.record.identity, r.reason]),
      [['3', 'blocked']],
    );
    assert.deepEqual(rejectedOf(records, 'not json'), []);
    assert.deepEqual(rejectedOf(records, '{"errors": "none"}'), []);
  });

  it('refuses a record named by several entries once, with their messages', () => {
    const rejected = rejectedOf(
      records,
      JSON.stringify({
        errors: [
          { index: 0, message: 'email is invalid' },
          { index: 0, message: 'name is required' },
          { index: 0, message: 'email is invalid' },
          { index: 1, message: 'blocked' },
        ],
      }),
    );
    assert.deepEqual(
      rejected.map((r) => [r.record.identity, r.reason]),
      [
        ['1', 'email is invalid; name is required'],
        ['2', 'blocked'],
      ],
    );
  });
});

describe('http model target: Retry-After', () => {
  it('waits the seconds or until the HTTP date it names', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('2', now), 2000);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
    assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), undefined); // past: back off as usual
    for (const none of [null, undefined, '', '0', '-1', 'soon'])
      assert.equal(retryAfterMs(none, now), undefined);
  });

  it('a 429 whose Retry-After is an HTTP date is retried after that date', async () => {
    const times: number[] = [];
    const server = createServer((req, res) => {
      req.resume().on('end', () => {
        times.push(Date.now());
        if (times.length > 1) return res.writeHead(200).end('{}');
        // HTTP dates have whole seconds: at least a second from now.
        const at = new Date((Math.floor(Date.now() / 1000) + 2) * 1000).toUTCString();
        res.writeHead(429, { 'retry-after': at }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
      const target = await openTarget({ url, batch_size: 10, headers: {} });
      const result = await target.apply(records.slice(0, 1));
      assert.equal(result.inserted.length, 1);
      assert.equal(times.length, 2);
      assert.ok(times[1]! - times[0]! >= 900, `retried after ${times[1]! - times[0]!} ms`);
    } finally {
      server.close();
    }
  });
});

describe('http model target: request headers', () => {
  it('auth_header and the JSON content type replace headers of the same name, whatever their case', async () => {
    let received: Record<string, unknown> = {};
    const server = createServer((req, res) => {
      received = req.headers;
      req.resume().on('end', () => res.writeHead(200).end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
      const headers = { Authorization: 'Basic old', 'Content-Type': 'text/plain', 'X-Team': 'data' };
      const target = await openTarget({ url, batch_size: 10, headers, auth_header: 'Bearer s3cret' });
      await target.apply(records.slice(0, 1));
      assert.equal(received.authorization, 'Bearer s3cret');
      assert.equal(received['content-type'], 'application/json');
      assert.equal(received['x-team'], 'data');
    } finally {
      server.close();
    }
  });
});
