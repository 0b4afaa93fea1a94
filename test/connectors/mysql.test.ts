import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { mysqlConnector } from '../../src/connectors/mysql/index.ts';
import { getConnectorType } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { FerryError } from '../../src/domain/errors.ts';
import { createMysqlDatabase, type MysqlTestConfig, type TestDatabase } from '../support/databases.ts';

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
  const connector = await mysqlConnector.open(config as never);
  try {
    return await work(connector);
  } finally {
    await connector.close();
  }
}

describe('mysql connector (MariaDB)', () => {
  let db: TestDatabase<MysqlTestConfig>;
  let connector: Connector;

  before(async () => {
    db = await createMysqlDatabase();
    const connection = await mysql.createConnection({
      host: '127.0.0.1',
      user: 'root',
      database: db.name,
      charset: 'utf8mb4',
      multipleStatements: true,
    });
    await connection.query(`
      create table \`Order Items\` (
        \`Order\` int not null, \`select\` varchar(20) not null, \`MixedCase\` text, qty int,
        primary key (\`select\`, \`Order\`));
      insert into \`Order Items\` values (1, 'a', 'x', 1), (1, 'b', null, 2), (2, 'a', 'y', 3);
      create view \`Big Orders\` as select \`Order\`, qty from \`Order Items\` where qty > 1;
      create table fidelity (
        id int primary key, ts timestamp(6) null, dt datetime(6), day date, amount decimal(38,10),
        note text, doc json, raw varbinary(16), big bigint, small_big bigint, flag tinyint(1), bits bit(4),
        ratio double);
      set time_zone = '+02:00';
      insert into fidelity values
        (1, '2024-01-02 05:04:05.123456', '2024-01-02 03:04:05.123456', '2024-01-02',
         1234567890123456789012345678.1234567891, '', '{"a": [1, {"b": null}], "s": "é"}', x'00ff10',
         9007199254740993, 42, 1, b'1010', 1.5),
        (2, null, null, null, null, null, null, null, null, null, null, null, null),
        (3, '2024-07-01 01:59:59.999999', null, null, -0.0000000001, 'héllo 😀 — 中文', '[]', x'', -1, 0, 0,
         b'0', 0);`);
    await connection.end();
    connector = await mysqlConnector.open(db.config as never);
  });

  after(async () => {
    await connector?.close();
    await db?.drop();
  });

  it('has the documented type id and config schema, and answers to mariadb', () => {
    assert.equal(mysqlConnector.id, 'mysql');
    assert.equal(mysqlConnector.name, 'MySQL / MariaDB');
    assert.deepEqual(mysqlConnector.secretFields, ['password']);
    assert.equal(
      mysqlConnector.configSchema.parse({ hostname: 'h', database: 'd', username: 'u' }).port,
      3306,
    );
    assert.equal(getConnectorType('mariadb'), getConnectorType('mysql'));
  });

  it('tests a working connection', async () => {
    await connector.test();
  });

  it('fails fast on an unreachable port', async () => {
    const started = Date.now();
    await withConnector({ ...db.config, port: 1 }, (c) =>
      rejectsWith(c.test(), 'connection_failed', /127\.0\.0\.1:1.*ECONNREFUSED/),
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it('reports a wrong password and an unknown database with the server message, never the password', async () => {
    const password = 'sup3r-s3cret-pw';
    const denied = await withConnector({ ...db.config, password }, (c) =>
      rejectsWith(c.test(), 'connection_failed', /Access denied for user 'root'/),
    );
    assert.equal(denied.field, 'configuration.password');
    assert.ok(!denied.message.includes(password));
    const missing = await withConnector({ ...db.config, database: 'ferry_no_such_db' }, (c) =>
      rejectsWith(c.test(), 'connection_failed', /Unknown database 'ferry_no_such_db'/),
    );
    assert.equal(missing.field, 'configuration.database');
  });

  it('lists tables and views with reserved and mixed-case names and composite primary keys', async () => {
    const schemas = await connector.listSchemas();
    assert.deepEqual(schemas.map((s) => s.id).sort(), ['Big Orders', 'Order Items', 'fidelity']);
    const items = schemas.find((s) => s.id === 'Order Items')!;
    assert.equal(items.namespace, null);
    assert.deepEqual(items.primaryKeys, ['select', 'Order']);
    assert.deepEqual(
      items.fields.map((f) => [f.name, f.type, f.nullable, f.isPrimaryKey]),
      [
        ['Order', 'number', false, true],
        ['select', 'string', false, true],
        ['MixedCase', 'string', true, false],
        ['qty', 'number', true, false],
      ],
    );
    const view = schemas.find((s) => s.id === 'Big Orders')!;
    assert.deepEqual(view.primaryKeys, []);
    assert.deepEqual(
      view.fields.map((f) => f.name),
      ['Order', 'qty'],
    );
  });

  it('maps remote types to field types', async () => {
    const schema = (await connector.getSchema('fidelity'))!;
    const byName = Object.fromEntries(schema.fields.map((f) => [f.name, f]));
    const expected: Record<string, [string, string]> = {
      ts: ['timestamp(6)', 'datetime'],
      dt: ['datetime(6)', 'datetime'],
      day: ['date', 'datetime'],
      amount: ['decimal(38,10)', 'number'],
      note: ['text', 'string'],
      doc: ['json', 'object'],
      raw: ['varbinary(16)', 'binary'],
      big: ['bigint(20)', 'number'],
      flag: ['tinyint(1)', 'boolean'],
      ratio: ['double', 'number'],
    };
    for (const [name, [remoteType, type]] of Object.entries(expected)) {
      assert.equal(byName[name]?.remoteType, remoteType, name);
      assert.equal(byName[name]?.type, type, name);
    }
  });

  it('returns null for an unknown schema, even one differing only in case', async () => {
    assert.equal(await connector.getSchema('nope'), null);
    assert.equal(await connector.getSchema('FIDELITY'), null);
    await rejectsWith(connector.sampleRecords('nope', 5), 'not_found');
  });

  it('samples records with exact, JSON-safe values', async () => {
    const rows = await connector.sampleRecords('fidelity', 10);
    const [one, two, three] = [1, 2, 3].map((id) => rows.find((r) => r.id === id)!);
    assert.deepEqual(one, {
      id: 1,
      ts: '2024-01-02T03:04:05.123456Z',
      dt: '2024-01-02T03:04:05.123456',
      day: '2024-01-02',
      amount: '1234567890123456789012345678.1234567891',
      note: '',
      doc: { a: [1, { b: null }], s: 'é' },
      raw: Buffer.from([0x00, 0xff, 0x10]).toString('base64'),
      big: '9007199254740993',
      small_big: 42,
      flag: 1,
      bits: 10,
      ratio: 1.5,
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
    assert.equal(three!.big, -1);
    assert.doesNotThrow(() => JSON.stringify(rows));
    assert.equal((await connector.sampleRecords('Order Items', 2)).length, 2);
    assert.equal((await connector.sampleRecords('Big Orders', 10)).length, 2);
  });

  it('runs read-only queries and returns at most limit rows', async () => {
    const result = await connector.query(
      'select seq as n, seq * 2 as `Double` from (select 1 seq union all select 2 union all select 3 union all select 4) s;',
      3,
    );
    assert.deepEqual(result.fields, ['n', 'Double']);
    assert.equal(result.rows.length, 3);
    assert.deepEqual(result.rows[0], { n: 1, Double: 2 });
    const typed = await connector.query('select ts, amount, doc from fidelity where id = 1', 10);
    assert.deepEqual(typed.rows, [
      {
        ts: '2024-01-02T03:04:05.123456Z',
        amount: '1234567890123456789012345678.1234567891',
        doc: { a: [1, { b: null }], s: 'é' },
      },
    ]);
    assert.deepEqual((await connector.query('select 1 as a -- comment', 0)).rows, []);
  });

  it('reports bad SQL with the database message and cannot write', async () => {
    await rejectsWith(
      connector.query('select nope from fidelity', 10),
      'query_failed',
      /Unknown column 'nope'/,
    );
    await rejectsWith(connector.query('selec 1', 10), 'query_failed', /SQL syntax/);
    await rejectsWith(connector.query('select 1) q; drop table fidelity; select (1', 1), 'query_failed');
    assert.ok(await connector.getSchema('fidelity'));
    assert.equal((await connector.query('select 1 as one', 1)).rows[0]!.one, 1);
  });
});
