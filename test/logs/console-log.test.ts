import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FerryError } from '../../src/domain/errors.ts';
import { appendConsoleLog, appendConsoleLogs, readConsoleLog } from '../../src/logs/console-log.ts';
import { storeKinds, useLogFixture } from './fixtures.ts';

const rejects = (promise: Promise<unknown>, field: string) =>
  assert.rejects(promise, (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.field, field);
    return true;
  });

for (const kind of storeKinds) {
  describe(`console log on the ${kind.kind} store`, () => {
    const f = useLogFixture(kind);

    /** An execution with `n` lines `line 1` … `line n`, execution-level. */
    async function withLines(n: number) {
      const executionId = await f.newExecution();
      await appendConsoleLogs(
        f.store.db,
        Array.from({ length: n }, (_, i) => ({
          executionId,
          level: 'info' as const,
          message: `line ${i + 1}`,
        })),
      );
      return executionId;
    }

    it('appends lines and reads the newest first by default', async () => {
      const executionId = await f.newExecution();
      await appendConsoleLog(f.store.db, { executionId, level: 'info', message: 'first' });
      await appendConsoleLog(f.store.db, { executionId, schemaId: null, level: 'warn', message: 'second' });
      await appendConsoleLog(f.store.db, {
        executionId,
        schemaId: 'public.users',
        level: 'error',
        message: 'third',
      });
      const page = await readConsoleLog(f.store.db, { executionId });
      assert.deepEqual(
        page.entries.map((e) => [e.level, e.message, e.schemaId]),
        [
          ['error', 'third', 'public.users'],
          ['warn', 'second', null],
          ['info', 'first', null],
        ],
      );
      assert.ok(page.entries.every((e) => e.timestamp instanceof Date && /^\d+$/.test(e.cursor)));
      assert.ok(Number(page.entries[0]!.cursor) > Number(page.entries[1]!.cursor));
      assert.equal(page.nextCursor, page.entries[0]!.cursor);
    });

    it('returns the newest 50 without a limit and caps larger limits at 50', async () => {
      const executionId = await withLines(60);
      const byDefault = await readConsoleLog(f.store.db, { executionId });
      assert.equal(byDefault.entries.length, 50);
      assert.equal(byDefault.entries[0]!.message, 'line 60');
      assert.equal(byDefault.entries[49]!.message, 'line 11');
      const capped = await readConsoleLog(f.store.db, { executionId, limit: 1000 });
      assert.equal(capped.entries.length, 50);
      const few = await readConsoleLog(f.store.db, { executionId, limit: 3 });
      assert.deepEqual(
        few.entries.map((e) => e.message),
        ['line 60', 'line 59', 'line 58'],
      );
    });

    it('follows with `after`: strictly newer entries, oldest first, and polls on', async () => {
      const executionId = await withLines(5);
      const newest = await readConsoleLog(f.store.db, { executionId, limit: 2 });
      const oldest = newest.entries[1]!.cursor; // line 4
      const followed = await readConsoleLog(f.store.db, { executionId, after: oldest });
      assert.deepEqual(
        followed.entries.map((e) => e.message),
        ['line 5'],
      );
      const nothing = await readConsoleLog(f.store.db, { executionId, after: followed.nextCursor! });
      assert.deepEqual(nothing.entries, []);
      assert.equal(nothing.nextCursor, followed.nextCursor, 'nothing new: the same cursor again');

      await appendConsoleLogs(f.store.db, [
        { executionId, level: 'info', message: 'line 6' },
        { executionId, level: 'info', message: 'line 7' },
        { executionId, level: 'info', message: 'line 8' },
      ]);
      const page1 = await readConsoleLog(f.store.db, { executionId, after: nothing.nextCursor!, limit: 2 });
      assert.deepEqual(
        page1.entries.map((e) => e.message),
        ['line 6', 'line 7'],
      );
      assert.equal(page1.nextCursor, page1.entries[1]!.cursor);
      const page2 = await readConsoleLog(f.store.db, { executionId, after: page1.nextCursor!, limit: 2 });
      assert.deepEqual(
        page2.entries.map((e) => e.message),
        ['line 8'],
      );

      const fromStart = await readConsoleLog(f.store.db, { executionId, after: '0', limit: 100 });
      assert.equal(fromStart.entries.length, 8);
      assert.equal(fromStart.entries[0]!.message, 'line 1');
      assert.equal(fromStart.entries.at(-1)!.message, 'line 8');
    });

    it('caps `after` pages at 50 too', async () => {
      const executionId = await withLines(55);
      const page = await readConsoleLog(f.store.db, { executionId, after: '0', limit: 51 });
      assert.equal(page.entries.length, 50);
      assert.equal(page.entries[0]!.message, 'line 1');
      const rest = await readConsoleLog(f.store.db, { executionId, after: page.nextCursor! });
      assert.deepEqual(
        rest.entries.map((e) => e.message),
        ['line 51', 'line 52', 'line 53', 'line 54', 'line 55'],
      );
    });

    it('refuses a limit below 1 and a malformed `after`', async () => {
      const executionId = await withLines(1);
      await rejects(readConsoleLog(f.store.db, { executionId, limit: 0 }), 'limit');
      await rejects(readConsoleLog(f.store.db, { executionId, limit: -5 }), 'limit');
      await rejects(readConsoleLog(f.store.db, { executionId, limit: 2.5 }), 'limit');
      for (const after of ['', 'abc', '-1', '1.5', ' 1', '1e3', '99999999999999999999']) {
        await rejects(readConsoleLog(f.store.db, { executionId, after }), 'after');
      }
    });

    it('filters by schema, and keeps executions apart', async () => {
      const executionId = await f.newExecution();
      const other = await f.newExecution();
      await appendConsoleLogs(f.store.db, [
        { executionId, level: 'info', message: 'run started' },
        { executionId, schemaId: 'users', level: 'info', message: 'users 1' },
        { executionId, schemaId: 'orders', level: 'info', message: 'orders 1' },
        { executionId, schemaId: 'users', level: 'error', message: 'users 2' },
        { executionId: other, schemaId: 'users', level: 'info', message: 'elsewhere' },
      ]);
      const users = await readConsoleLog(f.store.db, { executionId, schemaId: 'users' });
      assert.deepEqual(
        users.entries.map((e) => e.message),
        ['users 2', 'users 1'],
      );
      const followUsers = await readConsoleLog(f.store.db, {
        executionId,
        schemaId: 'users',
        after: users.entries[1]!.cursor,
      });
      assert.deepEqual(
        followUsers.entries.map((e) => e.message),
        ['users 2'],
      );
      const all = await readConsoleLog(f.store.db, { executionId });
      assert.deepEqual(
        all.entries.map((e) => e.message),
        ['users 2', 'orders 1', 'users 1', 'run started'],
      );
      const none = await readConsoleLog(f.store.db, { executionId, schemaId: 'missing' });
      assert.deepEqual(none, { entries: [], nextCursor: null });
    });
  });
}
