import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { FerryError } from '../../src/domain/errors.ts';
import { appendConsoleLog, appendConsoleLogs } from '../../src/logs/console-log.ts';
import { buildLogArchive } from '../../src/logs/export.ts';
import { openRecordLog, openRecordLogFile } from '../../src/logs/record-log.ts';
import { storeKinds, useLogFixture } from './fixtures.ts';

/** Every file of a .tar.gz, by name. */
async function extractArchive(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      assert.equal(entry.header.type, 'file');
      files.set(entry.header.name, await buffer(entry));
    }
  })();
  await pipeline(createReadStream(file), createGunzip(), extract);
  await reading;
  return files;
}

for (const kind of storeKinds) {
  describe(`log archives on the ${kind.kind} store`, () => {
    const f = useLogFixture(kind);

    it('hold every record log file and the console log, oldest line first', async () => {
      const executionId = await f.newExecution();
      await appendConsoleLog(f.store.db, { executionId, level: 'info', message: 'execution started' });
      await appendConsoleLogs(
        f.store.db,
        Array.from({ length: 2500 }, (_, i) => ({
          executionId,
          schemaId: 'public.users',
          level: 'info' as const,
          message: `row batch ${i}`,
        })),
      );
      await appendConsoleLog(f.store.db, { executionId, level: 'error', message: 'two\nlines' });
      const errors = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'public.users',
        type: 'errors',
      });
      errors.write({ record: { id: 1 }, error: 'rejected' });
      await errors.close();
      const records = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'a/b',
        type: 'records',
      });
      for (let i = 0; i < 3000; i++) await records.write({ i });
      await records.close();
      const long = await openRecordLog(f.store, f.dataDir, {
        executionId,
        schemaId: 'x'.repeat(300),
        type: 'warnings',
      });
      long.write({ warning: 'a table with a long name' });
      await long.close();
      const other = await f.newExecution();
      const elsewhere = await openRecordLog(f.store, f.dataDir, { executionId: other, type: 'records' });
      elsewhere.write({ other: true });
      await elsewhere.close();
      await appendConsoleLog(f.store.db, { executionId: other, level: 'info', message: 'not ours' });

      const archive = await buildLogArchive(f.store, f.dataDir, executionId);
      assert.match(archive.filename, new RegExp(`^${executionId}-\\d{8}T\\d{9}Z\\.tar\\.gz$`));
      const file = path.join(f.dataDir, 'exports', archive.filename);
      assert.equal(archive.bytes, statSync(file).size);
      assert.deepEqual(
        readdirSync(path.join(f.dataDir, 'exports')),
        [archive.filename],
        'no scratch files left',
      );

      const files = await extractArchive(file);
      const logDir = path.join(f.dataDir, 'logs', executionId);
      const expected = readdirSync(logDir).sort();
      assert.equal(expected.length, 3);
      assert.ok(
        expected.some((name) => name.length > 100),
        'a long name goes in a pax header',
      );
      assert.deepEqual([...files.keys()].sort(), [...expected, 'console.log'].sort());
      for (const name of expected)
        assert.deepEqual(files.get(name), readFileSync(path.join(logDir, name)), name);

      const lines = files.get('console.log')!.toString('utf8').split('\n');
      assert.equal(lines.pop(), '', 'ends with a newline');
      assert.equal(lines.length, 2502);
      assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info execution started$/);
      assert.match(lines[1]!, /^\S+ info \[public\.users\] row batch 0$/);
      assert.match(lines[2500]!, /^\S+ info \[public\.users\] row batch 2499$/);
      assert.match(lines[2501]!, /^\S+ error two\\nlines$/);

      // The archive downloads like a record log file, under the execution's signed URL.
      const download = await buffer(await openRecordLogFile(f.dataDir, executionId, archive.filename));
      assert.deepEqual(download, readFileSync(file));
    });

    it('builds an archive with only console.log for a run without record logs', async () => {
      const executionId = await f.newExecution();
      const archive = await buildLogArchive(f.store, f.dataDir, executionId);
      const files = await extractArchive(path.join(f.dataDir, 'exports', archive.filename));
      assert.deepEqual([...files.entries()], [['console.log', Buffer.alloc(0)]]);
    });

    it('refuses an unknown execution', async () => {
      await assert.rejects(
        buildLogArchive(f.store, f.dataDir, randomUUID()),
        (error) => error instanceof FerryError && error.code === 'not_found',
      );
      await assert.rejects(
        buildLogArchive(f.store, f.dataDir, '../x'),
        (error) => error instanceof FerryError && error.code === 'not_found',
      );
    });
  });
}
