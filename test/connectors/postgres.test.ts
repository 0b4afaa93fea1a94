import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresConnector } from '../../src/connectors/postgres/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { FerryError } from '../../src/domain/errors.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

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

async function withConnector<T>(
  config: Record<string, unknown>,
  work: (c: Connector) => Promise<T>,
): Promise<T> {
  const connector = await postgresConnector.open(config as never);
  try {
    return await work(connector);
  } finally {
    await connector.close();
  }
}

describe('postgresql connector', () => {
  let db: TestDatabase<PgTestConfig>;
  let connector: Connector;

  before(async () => {
    db = await createPgDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`
      create schema "Sales";
      create table "Sales"."Order Items" (
        "Order" int not null, "select" text not null, "MixedCase" text, qty int,
        primary key ("select", "Order"));
      insert into "Sales"."Order Items" values (1, 'a', 'x', 1), (1, 'b', null, 2), (2, 'a', 'y', 3);
      create view "Sales"."Big Orders" as select "Order", qty from "Sales"."Order Items" where qty > 1;
      create sequence ids;
      create table fidelity (
        id int primary key, ts timestamptz, ts_local timestamp, day date, amount numeric(38,10),
        note text, doc jsonb, raw bytea, big bigint, small_big bigint, tags text[], stamps timestamptz[],
        ratio double precision, flag boolean);
      insert into fidelity values
        (1, '2024-01-02 05:04:05.123456+02', '2024-01-02 03:04:05.123456', '2024-01-02',
         1234567890123456789012345678.1234567891, '', '{"a": [1, {"b": null}], "s": "é"}', '\\x00ff10',
         9007199254740993, 42, '{x,"y z"}', '{"2024-01-02 03:04:05.000001+00"}', 'NaN', true),
        (2, null, null, null, null, null, null, null, null, null, null, null, null, null),
        (3, '2024-06-30 23:59:59.999999+00', null, null, -0.0000000001, 'héllo 😀 — 中文', '[]', '\\x', -1, 0,
         '{}', null, 1.5, false);`);
    await client.end();
    connector = await postgresConnector.open(db.config as never);
  });

  after(async () => {
    await connector?.close();
    await db?.drop();
  });

  it('has the documented type id and config schema', () => {
    assert.equal(postgresConnector.id, 'postgresql');
    assert.equal(postgresConnector.name, 'PostgreSQL');
    assert.deepEqual(postgresConnector.secretFields, ['password']);
    const parsed = postgresConnector.configSchema.parse({ hostname: 'h', database: 'd', username: 'u' });
    assert.equal(parsed.port, 5432);
    assert.equal(postgresConnector.configSchema.safeParse({ hostname: 'h', database: 'd' }).success, false);
    assert.equal(postgresConnector.configSchema.safeParse({ ...db.config, port: 'abc' }).success, false);
  });

  it('tests a working connection', async () => {
    await connector.test();
  });

  it('fails fast on an unreachable port', async () => {
    const started = Date.now();
    const error = await withConnector({ ...db.config, port: 1 }, (c) =>
      rejectsWith(c.test(), 'connection_failed', /127\.0\.0\.1:1.*ECONNREFUSED/),
    );
    assert.ok(Date.now() - started < 5_000);
    assert.equal(error.field, 'configuration.port');
  });

  it('reports an unknown database and user with the server message, never the password', async () => {
    const password = 'sup3r-s3cret-pw';
    const missingDb = await withConnector({ ...db.config, database: 'ferry_no_such_db', password }, (c) =>
      rejectsWith(c.test(), 'connection_failed', /database "ferry_no_such_db" does not exist/),
    );
    assert.equal(missingDb.field, 'configuration.database');
    assert.ok(!missingDb.message.includes(password));
    const missingUser = await withConnector({ ...db.config, username: 'ferry_nobody', password }, (c) =>
      rejectsWith(c.test(), 'connection_failed', /ferry_nobody/),
    );
    assert.ok(!missingUser.message.includes(password));
  });

  it('lists tables and views with quoted identifiers, types and composite primary keys', async () => {
    const schemas = await connector.listSchemas();
    const ids = schemas.map((s) => s.id);
    assert.deepEqual(ids, ['Sales.Big Orders', 'Sales.Order Items', 'public.fidelity']);
    const items = schemas.find((s) => s.id === 'Sales.Order Items')!;
    assert.equal(items.name, 'Order Items');
    assert.equal(items.namespace, 'Sales');
    assert.deepEqual(items.primaryKeys, ['select', 'Order']);
    assert.deepEqual(
      items.fields.map((f) => [f.name, f.remoteType, f.type, f.nullable, f.isPrimaryKey]),
      [
        ['Order', 'integer', 'number', false, true],
        ['select', 'text', 'string', false, true],
        ['MixedCase', 'text', 'string', true, false],
        ['qty', 'integer', 'number', true, false],
      ],
    );
    const view = schemas.find((s) => s.id === 'Sales.Big Orders')!;
    assert.deepEqual(view.primaryKeys, []);
    assert.deepEqual(
      view.fields.map((f) => f.name),
      ['Order', 'qty'],
    );
  });

  it('maps remote types to field types', async () => {
    const schema = (await connector.getSchema('public.fidelity'))!;
    const byName = Object.fromEntries(schema.fields.map((f) => [f.name, f]));
    const expected: Record<string, [string, string]> = {
      ts: ['timestamp with time zone', 'datetime'],
      ts_local: ['timestamp without time zone', 'datetime'],
      day: ['date', 'datetime'],
      amount: ['numeric(38,10)', 'number'],
      note: ['text', 'string'],
      doc: ['jsonb', 'object'],
      raw: ['bytea', 'binary'],
      big: ['bigint', 'number'],
      tags: ['text[]', 'array'],
      ratio: ['double precision', 'number'],
      flag: ['boolean', 'boolean'],
    };
    for (const [name, [remoteType, type]] of Object.entries(expected)) {
      assert.equal(byName[name]?.remoteType, remoteType, name);
      assert.equal(byName[name]?.type, type, name);
    }
    assert.deepEqual(schema.primaryKeys, ['id']);
  });

  it('returns null for an unknown schema and refuses to sample it', async () => {
    assert.equal(await connector.getSchema('public.nope'), null);
    assert.equal(await connector.getSchema('nope'), null);
    await rejectsWith(connector.sampleRecords('public.nope', 5), 'not_found');
  });

  it('samples records with exact, JSON-safe values', async () => {
    const rows = await connector.sampleRecords('public.fidelity', 10);
    const [one, two, three] = [1, 2, 3].map((id) => rows.find((r) => r.id === id)!);
    assert.deepEqual(one, {
      id: 1,
      ts: '2024-01-02T03:04:05.123456Z',
      ts_local: '2024-01-02T03:04:05.123456',
      day: '2024-01-02',
      amount: '1234567890123456789012345678.1234567891',
      note: '',
      doc: { a: [1, { b: null }], s: 'é' },
      raw: Buffer.from([0x00, 0xff, 0x10]).toString('base64'),
      big: '9007199254740993',
      small_big: 42,
      tags: ['x', 'y z'],
      stamps: ['2024-01-02T03:04:05.000001Z'],
      ratio: 'NaN',
      flag: true,
    });
    assert.ok(
      Object.values(two!)
        .slice(1)
        .every((v) => v === null),
    );
    assert.equal(three!.note, 'héllo 😀 — 中文');
    assert.equal(three!.amount, '-0.0000000001');
    assert.equal(three!.ts, '2024-06-30T23:59:59.999999Z');
    assert.equal(three!.raw, '');
    assert.deepEqual(three!.doc, []);
    assert.deepEqual(three!.tags, []);
    assert.equal(three!.big, -1);
    assert.doesNotThrow(() => JSON.stringify(rows));
    assert.equal((await connector.sampleRecords('Sales.Order Items', 2)).length, 2);
    assert.equal((await connector.sampleRecords('Sales.Big Orders', 10)).length, 2);
  });

  it('leaves the global pg type parsers alone', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`select timestamptz '2024-01-02 03:04:05+00' as ts`);
    await client.end();
    assert.ok(rows[0].ts instanceof Date);
  });

  it('runs read-only queries and returns at most limit rows', async () => {
    const result = await connector.query(
      'select g as n, g * 2 as "Double" from generate_series(1, 10) g;',
      3,
    );
    assert.deepEqual(result.fields, ['n', 'Double']);
    assert.deepEqual(result.rows, [
      { n: 1, Double: 2 },
      { n: 2, Double: 4 },
      { n: 3, Double: 6 },
    ]);
    const zero = await connector.query('select 1 as a -- trailing comment', 0);
    assert.deepEqual(zero, { fields: ['a'], rows: [] });
    const typed = await connector.query(`select ts, amount from fidelity where id = 1`, 10);
    assert.deepEqual(typed.rows, [
      { ts: '2024-01-02T03:04:05.123456Z', amount: '1234567890123456789012345678.1234567891' },
    ]);
  });

  it('reports bad SQL with the database message', async () => {
    await rejectsWith(
      connector.query('select nope from fidelity', 10),
      'query_failed',
      /column "nope" does not exist/,
    );
    await rejectsWith(connector.query('selec 1', 10), 'query_failed', /syntax error/);
  });

  it('cannot write, even by smuggling a second statement', async () => {
    await rejectsWith(connector.query(`select nextval('ids')`, 1), 'query_failed', /read-only transaction/);
    await rejectsWith(
      connector.query('select 1) q; drop table fidelity; select (1', 1),
      'query_failed',
      /multiple commands/,
    );
    await rejectsWith(
      connector.query('select 1) q; commit; drop table fidelity; select (1', 1),
      'query_failed',
    );
    assert.ok(await connector.getSchema('public.fidelity'));
    // The connection is still usable after failures.
    assert.equal((await connector.query('select 1 as one', 1)).rows[0]!.one, 1);
  });
});
