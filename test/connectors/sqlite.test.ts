import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { sqliteConnector } from '../../src/connectors/sqlite/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { FerryError } from '../../src/domain/errors.ts';
import { type TempDir, tempDir } from '../support/databases.ts';

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<FerryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('sqlite connector', () => {
  let dir: TempDir;
  let file: string;
  let connector: Connector;

  before(async () => {
    dir = tempDir();
    file = path.join(dir.path, 'app.sqlite');
    const db = new DatabaseSync(file);
    db.exec(`
      create table "Order Items" ("Order" integer not null, "select" text not null, "MixedCase" text, qty int,
        primary key ("select", "Order"));
      insert into "Order Items" values (1, 'a', 'x', 1), (1, 'b', null, 2), (2, 'a', 'y', 3);
      create view "Big Orders" as select "Order", qty from "Order Items" where qty > 1;
      create table fidelity (id integer primary key, ts text, amount text, note text, raw blob, big integer,
        ratio real, created datetime, flag boolean, doc json);
      insert into fidelity values
        (1, '2024-01-02T03:04:05.123456Z', '1234567890123456789012345678.1234567891', '', x'00ff10',
         9007199254740993, 1.5, '2024-01-02 03:04:05.123456', 1, '{"a":1}'),
        (2, null, null, null, null, null, null, null, null, null),
        (3, null, null, 'héllo 😀 — 中文', x'', -1, null, null, 0, null);`);
    db.close();
    connector = await sqliteConnector.open({ path: file });
  });

  after(async () => {
    await connector?.close();
    dir?.cleanup();
  });

  it('tests an existing file', async () => {
    assert.equal(sqliteConnector.id, 'sqlite');
    await connector.test();
  });

  it('refuses a missing file and a file that is not a database', async () => {
    const missing = await sqliteConnector.open({ path: path.join(dir.path, 'missing.sqlite') });
    const error = await rejectsWith(missing.test(), 'connection_failed', /not found.*missing\.sqlite/);
    assert.equal(error.field, 'configuration.path');
    await missing.close();
    const junk = path.join(dir.path, 'junk.sqlite');
    writeFileSync(
      junk,
      'this is not a database, just some text that is long enough to have a header..........',
    );
    const notDb = await sqliteConnector.open({ path: junk });
    await rejectsWith(notDb.test(), 'connection_failed', /not a database/);
    await notDb.close();
  });

  it('lists tables and views with primary keys from table_info', async () => {
    const schemas = await connector.listSchemas();
    assert.deepEqual(
      schemas.map((s) => s.id),
      ['Big Orders', 'Order Items', 'fidelity'],
    );
    const items = schemas.find((s) => s.id === 'Order Items')!;
    assert.deepEqual(items.primaryKeys, ['select', 'Order']);
    assert.deepEqual(
      items.fields.map((f) => [f.name, f.remoteType, f.type, f.nullable, f.isPrimaryKey]),
      [
        ['Order', 'INTEGER', 'number', false, true],
        ['select', 'TEXT', 'string', false, true],
        ['MixedCase', 'TEXT', 'string', true, false],
        ['qty', 'INT', 'number', true, false],
      ],
    );
    const view = schemas.find((s) => s.id === 'Big Orders')!;
    assert.deepEqual(view.primaryKeys, []);
    assert.deepEqual(
      view.fields.map((f) => f.name),
      ['Order', 'qty'],
    );
    const fidelity = schemas.find((s) => s.id === 'fidelity')!;
    const types = Object.fromEntries(fidelity.fields.map((f) => [f.name, f.type]));
    assert.deepEqual(types, {
      id: 'number',
      ts: 'string',
      amount: 'string',
      note: 'string',
      raw: 'binary',
      big: 'number',
      ratio: 'number',
      created: 'datetime',
      flag: 'boolean',
      doc: 'object',
    });
  });

  it('returns null for an unknown schema', async () => {
    assert.equal(await connector.getSchema('nope'), null);
    await rejectsWith(connector.sampleRecords('nope', 1), 'not_found');
  });

  it('samples JSON-safe records', async () => {
    const rows = await connector.sampleRecords('fidelity', 10);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], {
      id: 1,
      ts: '2024-01-02T03:04:05.123456Z',
      amount: '1234567890123456789012345678.1234567891',
      note: '',
      raw: Buffer.from([0x00, 0xff, 0x10]).toString('base64'),
      big: '9007199254740993',
      ratio: 1.5,
      created: '2024-01-02 03:04:05.123456',
      flag: 1,
      doc: '{"a":1}',
    });
    assert.ok(
      Object.values(rows[1]!)
        .slice(1)
        .every((v) => v === null),
    );
    assert.equal(rows[2]!.note, 'héllo 😀 — 中文');
    assert.equal(rows[2]!.raw, '');
    assert.equal(rows[2]!.big, -1);
    assert.equal((await connector.sampleRecords('Order Items', 2)).length, 2);
  });

  it('runs queries with a row limit', async () => {
    const result = await connector.query(
      'with recursive s(n) as (select 1 union all select n + 1 from s where n < 100) select n, n * 2 as "Double" from s',
      3,
    );
    assert.deepEqual(result, {
      fields: ['n', 'Double'],
      rows: [
        { n: 1, Double: 2 },
        { n: 2, Double: 4 },
        { n: 3, Double: 6 },
      ],
    });
    assert.deepEqual(await connector.query('-- comment\nselect 1 as a', 0), { fields: ['a'], rows: [] });
  });

  it('reports bad SQL and refuses writes and attachments', async () => {
    await rejectsWith(
      connector.query('select nope from fidelity', 1),
      'query_failed',
      /no such column: nope/,
    );
    await rejectsWith(connector.query('delete from fidelity', 1), 'query_failed');
    await rejectsWith(
      connector.query('with x as (select 1) insert into fidelity (id) select * from x', 1),
      'query_failed',
      /readonly/,
    );
    await rejectsWith(
      connector.query(`attach '${path.join(dir.path, 'other.db')}' as other`, 1),
      'query_failed',
    );
    assert.equal((await connector.sampleRecords('fidelity', 10)).length, 3);
  });
});
