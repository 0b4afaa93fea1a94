import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { FerryError } from '../../src/domain/errors.ts';
import {
  groupRecordLogsByType,
  listRecordLogs,
  openRecordLog,
  openRecordLogFile,
  recordLogFilename,
  signRecordLogUrl,
  verifyRecordLogSignature,
} from '../../src/logs/record-log.ts';
import { storeKinds, useLogFixture } from './fixtures.ts';

const ferryError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof FerryError, String(error));
  assert.equal(error.code, code);
  return true;
};

describe('record log file names', () => {
  it('keep plain schema ids and sanitize the rest without collisions', () => {
    assert.equal(recordLogFilename(null, 'errors'), 'execution-errors.jsonl');
    assert.equal(recordLogFilename('public.users', 'records'), 'public.users-records.jsonl');
    const slashed = recordLogFilename('a/b', 'errors');
    const underscored = recordLogFilename('a_b', 'errors');
    assert.match(slashed, /^a_b~[0-9a-f]{10}-errors\.jsonl$/);
    assert.equal(underscored, 'a_b-errors.jsonl');
    assert.notEqual(recordLogFilename('execution', 'errors'), 'execution-errors.jsonl');
    for (const id of ['../../etc/passwd', '..', '.hidden', 'x'.repeat(400), 'späße', 'a b\\c', '']) {
      const name = recordLogFilename(id, 'warnings');
      assert.match(name, /^[A-Za-z0-9_~][A-Za-z0-9._~-]*-warnings\.jsonl$/, name);
      assert.ok(name.length < 120);
    }
    assert.throws(() => recordLogFilename('x', 'bogus' as never), ferryError('validation_failed'));
  });
});

describe('signed record log URLs', () => {
  const secret = 'k'.repeat(32);
  const executionId = '3f1d2c4b-0000-4000-8000-000000000001';
  const parse = (url: string) => {
    const u = new URL(url, 'http://ferry.local');
    const [, api, logs, id, filename] = u.pathname.split('/');
    assert.equal(`${api}/${logs}`, 'api/logs');
    return {
      executionId: decodeURIComponent(id!),
      filename: decodeURIComponent(filename!),
      expires: u.searchParams.get('expires') ?? undefined,
      signature: u.searchParams.get('signature') ?? undefined,
    };
  };

  it('verify when untouched and unexpired', () => {
    const expiresAt = new Date(Date.now() + 60_000);
    const url = signRecordLogUrl(secret, { executionId, filename: 'users-errors.jsonl', expiresAt });
    assert.match(
      url,
      /^\/api\/logs\/[0-9a-f-]{36}\/users-errors\.jsonl\?expires=\d+&signature=[0-9a-f]{64}$/,
    );
    const link = parse(url);
    assert.equal(Number(link.expires), Math.floor(expiresAt.getTime() / 1000));
    assert.equal(verifyRecordLogSignature(secret, link), true);
  });

  it('expire after one hour by default', () => {
    const link = parse(signRecordLogUrl(secret, { executionId, filename: 'f.jsonl' }));
    const expires = Number(link.expires) * 1000;
    assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 5_000);
    assert.equal(verifyRecordLogSignature(secret, { ...link, now: new Date(Date.now() + 3500_000) }), true);
    assert.equal(verifyRecordLogSignature(secret, { ...link, now: new Date(Date.now() + 3700_000) }), false);
  });

  it('refuse expired and tampered links', () => {
    const past = parse(
      signRecordLogUrl(secret, { executionId, filename: 'f.jsonl', expiresAt: new Date(Date.now() - 1000) }),
    );
    assert.equal(verifyRecordLogSignature(secret, past), false, 'expired');
    const link = parse(
      signRecordLogUrl(secret, {
        executionId,
        filename: 'f.jsonl',
        expiresAt: new Date(Date.now() + 60_000),
      }),
    );
    const flipped = link.signature!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    assert.equal(verifyRecordLogSignature(secret, { ...link, signature: flipped }), false, 'signature');
    assert.equal(verifyRecordLogSignature(secret, { ...link, filename: 'g.jsonl' }), false, 'filename');
    assert.equal(
      verifyRecordLogSignature(secret, { ...link, executionId: executionId.replace(/1$/, '2') }),
      false,
      'execution',
    );
    assert.equal(
      verifyRecordLogSignature(secret, { ...link, expires: String(Number(link.expires) + 3600) }),
      false,
      'extended expiry',
    );
    assert.equal(verifyRecordLogSignature('other'.repeat(8), link), false, 'other secret');
    for (const signature of [undefined, '', 'zz', link.signature!.slice(2), `${link.signature}00`]) {
      assert.equal(verifyRecordLogSignature(secret, { ...link, signature }), false, String(signature));
    }
    for (const expires of [undefined, '', 'soon', '-5', '1.5']) {
      assert.equal(verifyRecordLogSignature(secret, { ...link, expires }), false, String(expires));
    }
  });
});

for (const kind of storeKinds) {
  describe(`record logs on the ${kind.kind} store`, () => {
    const f = useLogFixture(kind);

    it('write JSON lines, count records and bytes, and list them grouped by type', async () => {
      const executionId = await f.newExecution();
      const errors = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'public.users',
        type: 'errors',
      });
      const rows = [
        { record: { id: 1, name: 'Zoë' }, error: 'too long' },
        { record: { id: 2n, blob: Buffer.from('hi') }, error: 'bad\nvalue' },
      ];
      for (const row of rows) await errors.write(row);
      assert.equal(errors.records, 2);
      const row = await errors.close();
      assert.deepEqual(await errors.close(), row, 'close is idempotent');
      assert.throws(() => errors.write({}), /closed/);

      const file = path.join(f.dataDir, 'logs', executionId, 'public.users-errors.jsonl');
      const content = readFileSync(file, 'utf8');
      assert.deepEqual(
        content
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
        [
          { record: { id: 1, name: 'Zoë' }, error: 'too long' },
          { record: { id: '2', blob: 'aGk=' }, error: 'bad\nvalue' },
        ],
      );
      assert.equal(row!.bytes, Buffer.byteLength(content));
      assert.equal(row!.records, 2);

      const records = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'a/b',
        type: 'records',
      });
      let waits = 0;
      for (let i = 0; i < 5000; i++) {
        const pending = records.write({ i, padding: 'x'.repeat(100) });
        if (pending) {
          waits++;
          await pending;
        }
      }
      assert.ok(waits > 0, 'a full buffer asks the writer to wait');
      await records.close();
      const warnings = await openRecordLog(f.store, f.dataDir, { executionId, type: 'warnings' });
      warnings.write({ warning: 'execution-level' });
      await warnings.close();
      const moreErrors = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'orders',
        type: 'errors',
      });
      moreErrors.write({ error: 'x' });
      await moreErrors.close();

      const listed = await listRecordLogs(f.store.db, executionId);
      assert.deepEqual(
        listed.map((r) => [r.type, r.schemaId, r.records]),
        [
          ['records', 'a/b', 5000],
          ['errors', 'orders', 1],
          ['errors', 'public.users', 2],
          ['warnings', null, 1],
        ],
      );
      const bigFile = path.join(f.dataDir, 'logs', executionId, listed[0]!.filename);
      assert.equal(listed[0]!.bytes, readFileSync(bigFile).length);
      assert.match(listed[0]!.filename, /^a_b~[0-9a-f]+-records\.jsonl$/);
      const groups = groupRecordLogsByType(listed);
      assert.deepEqual(Object.keys(groups), ['records', 'errors', 'warnings']);
      assert.equal(groups.errors!.length, 2);
      assert.deepEqual(await listRecordLogs(f.store.db, await f.newExecution()), []);
    });

    it('take lines printed as bytes after the pending ones, counting their records and bytes', async () => {
      const executionId = await f.newExecution();
      const log = await openRecordLog(f.store, f.dataDir, { executionId, schemaId: 's', type: 'inserts' });
      await log.writeJson('{"id":"1"}');
      await log.writeLines({ bytes: Buffer.from('{"id":"2"}\n{"id":"é"}\n'), count: 2 });
      await log.writeLines({ bytes: Buffer.alloc(0), count: 0 });
      await log.writeJson('{"id":"4"}');
      assert.equal(log.records, 4);
      const row = await log.close();
      const content = readFileSync(path.join(f.dataDir, 'logs', executionId, row!.filename), 'utf8');
      assert.equal(content, '{"id":"1"}\n{"id":"2"}\n{"id":"é"}\n{"id":"4"}\n');
      assert.equal(row!.records, 4);
      assert.equal(row!.bytes, Buffer.byteLength(content));
    });

    it('leave no file and no row for an empty log, and replace a log opened again', async () => {
      const executionId = await f.newExecution();
      const empty = await openRecordLog(f.store, f.dataDir, { executionId, schemaId: 's', type: 'errors' });
      assert.equal(await empty.close(), null);
      assert.equal(existsSync(path.join(f.dataDir, 'logs', executionId)), false);
      assert.deepEqual(await listRecordLogs(f.store.db, executionId), []);

      const first = await openRecordLog(f.store, f.dataDir, { executionId, schemaId: 's', type: 'errors' });
      first.write({ attempt: 1 });
      first.write({ attempt: 1 });
      await first.close();
      const second = await openRecordLog(f.store, f.dataDir, { executionId, schemaId: 's', type: 'errors' });
      second.write({ attempt: 2 });
      await second.close();
      const [row, ...rest] = await listRecordLogs(f.store.db, executionId);
      assert.equal(rest.length, 0);
      assert.equal(row!.records, 1);
      const file = path.join(f.dataDir, 'logs', executionId, 's-errors.jsonl');
      assert.equal(readFileSync(file, 'utf8'), '{"attempt":2}\n');

      const third = await openRecordLog(f.store, f.dataDir, { executionId, schemaId: 's', type: 'errors' });
      await third.close();
      assert.deepEqual(await listRecordLogs(f.store.db, executionId), []);
      assert.equal(existsSync(file), false);
    });

    it('open files for download, refusing traversal and missing files', async () => {
      const executionId = await f.newExecution();
      const log = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'users',
        type: 'records',
      });
      log.write({ id: 1 });
      await log.close();
      const stream = await openRecordLogFile(f.dataDir, executionId, 'users-records.jsonl');
      assert.equal(await text(stream), '{"id":1}\n');

      await assert.rejects(
        openRecordLogFile(f.dataDir, executionId, 'nope-records.jsonl'),
        ferryError('not_found'),
      );
      mkdirSync(path.join(f.dataDir, 'logs', executionId, 'adir'));
      await assert.rejects(openRecordLogFile(f.dataDir, executionId, 'adir'), ferryError('not_found'));
      writeFileSync(path.join(f.dataDir, 'secret.txt'), 'secret');
      for (const name of [
        '../../secret.txt',
        '..',
        '.',
        '/etc/passwd',
        'a/b',
        '..%2Fsecret.txt',
        '.hidden',
        '',
      ]) {
        await assert.rejects(
          openRecordLogFile(f.dataDir, executionId, name),
          ferryError('bad_request'),
          name,
        );
      }
      await assert.rejects(
        openRecordLogFile(f.dataDir, '../logs', 'users-records.jsonl'),
        ferryError('bad_request'),
      );
      assert.deepEqual(readdirSync(path.join(f.dataDir, 'logs', executionId)).sort(), [
        'adir',
        'users-records.jsonl',
      ]);
    });
  });
}
