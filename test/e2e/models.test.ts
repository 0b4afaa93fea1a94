import assert from 'node:assert/strict';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { PolytomicClient, PolytomicError } from 'polytomic';
import {
  createMysqlDatabase,
  createPgDatabase,
  type PgTestConfig,
  type TempDir,
  type TestDatabase,
  tempDir,
} from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';

// Models end to end: SQL queries and tables on PostgreSQL and MariaDB, through the polytomic SDK and
// plain HTTP.

async function failure(call: () => Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof PolytomicError, String(error));
    return { status: error.statusCode!, body: error.body };
  }
  assert.fail('the call succeeded');
}

describe('models end to end', () => {
  let ferry: FerryProcess;
  let sdk: PolytomicClient;
  let pgSource: TestDatabase<PgTestConfig>;
  let mysqlSource: TestDatabase<PgTestConfig>;
  let pgId: string;
  let mysqlId: string;
  let sqliteDir: TempDir;
  let sqliteId: string;

  before(async () => {
    sqliteDir = tempDir();
    const file = path.join(sqliteDir.path, 'shop.db');
    const db = new DatabaseSync(file);
    db.exec(`create table items (id integer primary key, title text, price real, tags text);
      insert into items values (1, 'pen', 1.5, 'a'), (2, 'ink', 2.25, null), (3, 'pad', 3, 'b')`);
    db.close();
    [ferry, pgSource, mysqlSource] = await startAll([
      startFerry(),
      createPgDatabase(),
      createMysqlDatabase(),
    ]);
    sdk = new PolytomicClient({ environment: ferry.url, token: ferry.adminKey, version: '2024-02-08' });
    await pgSource.query(`create table users (id bigint primary key, email text not null, score numeric(10,2),
      seen timestamptz, active boolean);
      insert into users values (1, 'a@x.io', 1.50, '2024-01-02 03:04:05.123456+00', true),
        (2, 'b@x.io', null, null, false), (3, 'c@x.io', 3, '2024-02-01 00:00:00+00', true)`);
    await mysqlSource.query(
      'create table accounts (id int primary key, name varchar(50) not null, balance decimal(12,3), opened datetime(6))',
    );
    await mysqlSource.query(
      `insert into accounts values (1, 'one', 10.5, '2024-01-02 03:04:05.123456'), (2, 'two', null, null)`,
    );
    pgId = (await sdk.connections.create({ name: 'pg', type: 'postgresql', configuration: pgSource.config }))
      .data!.id!;
    mysqlId = (await sdk.connections.create({ name: 'my', type: 'mysql', configuration: mysqlSource.config }))
      .data!.id!;
    sqliteId = (await sdk.connections.create({ name: 'lite', type: 'sqlite', configuration: { path: file } }))
      .data!.id!;
  });

  after(async () => {
    await ferry?.stop();
    await Promise.all([pgSource?.drop(), mysqlSource?.drop()]);
    sqliteDir?.cleanup();
  });

  it('creates a SQL model on PostgreSQL with typed fields and an identifier, and samples it', async () => {
    const created = (
      await sdk.models.create({
        body: {
          name: 'active users',
          connection_id: pgId,
          configuration: { query: 'select id, email, score, seen from users where active order by id;' },
          identifier: 'id',
        },
      })
    ).data!;
    assert.equal(created.name, 'active users');
    assert.equal(created.identifier, 'id');
    assert.deepEqual(
      created.fields!.map((f) => [f.name, f.type, f.remote_type, f.unique]),
      [
        ['id', 'number', 'bigint', true],
        ['email', 'string', 'text', false],
        ['score', 'number', 'numeric(10,2)', false],
        ['seen', 'datetime', 'timestamp with time zone', false],
      ],
    );
    const fetched = (await sdk.models.get(created.id!)).data!;
    assert.equal(fetched.id, created.id);
    const sample = (await sdk.models.sample(created.id!)).data!;
    assert.deepEqual(
      sample.records!.map((r: any) => r.email),
      ['a@x.io', 'c@x.io'],
    );
    const listed = (await sdk.models.list()).data!;
    assert.ok(listed.some((m) => m.id === created.id));

    const updated = (
      await sdk.models.update(created.id!, {
        name: 'all users',
        connection_id: pgId,
        configuration: { query: 'select id, email from users' },
        identifier: 'email',
      })
    ).data!;
    assert.equal(updated.version, 2);
    assert.deepEqual(
      updated.fields!.map((f) => f.name),
      ['id', 'email'],
    );
    await sdk.models.remove(created.id!);
    assert.equal((await failure(() => sdk.models.get(created.id!))).status, 404);
  });

  it('creates table models on MariaDB and PostgreSQL', async () => {
    const mysqlModel = (
      await sdk.models.create({
        body: {
          name: 'accounts',
          connection_id: mysqlId,
          configuration: { table: 'accounts' },
          identifier: 'id',
        },
      })
    ).data!;
    assert.deepEqual(
      mysqlModel.fields!.map((f) => [f.name, f.type]),
      [
        ['id', 'number'],
        ['name', 'string'],
        ['balance', 'number'],
        ['opened', 'datetime'],
      ],
    );
    const pgTable = (
      await sdk.models.create({
        body: { name: 't', connection_id: pgId, configuration: { table: 'public.users' } },
      })
    ).data!;
    assert.equal(pgTable.type, 'table');
    assert.equal(pgTable.fields!.length, 5);
  });

  it('models SQLite queries and tables', async () => {
    const query = (
      await sdk.models.create({
        body: {
          name: 'cheap items',
          connection_id: sqliteId,
          configuration: { query: 'select id, title, price from items where price < 3 order by id' },
          identifier: 'id',
        },
      })
    ).data!;
    assert.deepEqual(
      query.fields!.map((f) => [f.name, f.type]),
      [
        ['id', 'number'],
        ['title', 'string'],
        ['price', 'number'],
      ],
    );
    const sample = (await sdk.models.sample(query.id!)).data!;
    assert.deepEqual(
      sample.records!.map((r: any) => r.title),
      ['pen', 'ink'],
    );
    const table = (
      await sdk.models.create({
        body: { name: 'items', connection_id: sqliteId, configuration: { table: 'items' } },
      })
    ).data!;
    assert.deepEqual(
      table.fields!.map((f) => f.name),
      ['id', 'title', 'price', 'tags'],
    );
    const bad = await failure(() =>
      sdk.models.create({
        body: { name: 'bad', connection_id: sqliteId, configuration: { query: 'select nope from items' } },
      }),
    );
    assert.equal(bad.status, 422);
    assert.match(bad.body.message, /nope/);
  });

  it('describes MariaDB SQL models from the result metadata', async () => {
    const preview = await http(ferry.url, 'POST', '/api/model-preview', {
      key: ferry.adminKey,
      body: {
        name: 'p',
        connection_id: mysqlId,
        configuration: { query: 'select id, name, balance * 2 as doubled, opened from accounts' },
      },
    });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.data.id, undefined);
    assert.deepEqual(
      preview.body.data.fields.map((f: any) => [f.name, f.type]),
      [
        ['id', 'number'],
        ['name', 'string'],
        ['doubled', 'number'],
        ['opened', 'datetime'],
      ],
    );
  });

  it('answers the modelsync source routes with tables and fields', async () => {
    const source = (await sdk.modelSync.getSource(pgId)).data!;
    assert.deepEqual(source.requires_one_of, ['query', 'table']);
    assert.ok((source.items!.table!.items as any[]).some((i) => i.value === 'public.users'));
    const byTable = await sdk.modelSync.getSourceFields(pgId, { params: { table: ['public.users'] } });
    assert.deepEqual(
      byTable.data!.map((f) => f.name),
      ['id', 'email', 'score', 'seen', 'active'],
    );
    const byQuery = await sdk.modelSync.getSourceFields(mysqlId, {
      params: { query: ['select name from accounts'] },
    });
    assert.deepEqual(
      byQuery.data!.map((f) => [f.name, f.type]),
      [['name', 'string']],
    );
  });

  it('refuses bad models with a 4xx in the Polytomic envelope and saves nothing', async () => {
    const before = (await sdk.models.list()).data!.length;
    const badSql = await failure(() =>
      sdk.models.create({
        body: { name: 'bad', connection_id: pgId, configuration: { query: 'select nope from users' } },
      }),
    );
    assert.equal(badSql.status, 422);
    assert.match(badSql.body.message, /column "nope" does not exist/);
    const badMysql = await failure(() =>
      sdk.models.create({
        body: { name: 'bad', connection_id: mysqlId, configuration: { query: 'select * from nowhere' } },
      }),
    );
    assert.equal(badMysql.status, 422);
    assert.match(badMysql.body.message, /nowhere/);
    const badIdentifier = await failure(() =>
      sdk.models.create({
        body: {
          name: 'bad',
          connection_id: pgId,
          configuration: { table: 'public.users' },
          identifier: 'nope',
        },
      }),
    );
    assert.equal(badIdentifier.status, 422);
    assert.equal(badIdentifier.body.metadata.field, 'identifier');
    const badTable = await failure(() =>
      sdk.models.create({
        body: { name: 'bad', connection_id: pgId, configuration: { table: 'public.nope' } },
      }),
    );
    assert.equal(badTable.status, 422);
    const both = await http(ferry.url, 'POST', '/api/models', {
      key: ferry.adminKey,
      body: { name: 'bad', connection_id: pgId, configuration: { table: 'public.users', query: 'select 1' } },
    });
    assert.equal(both.status, 422);
    assert.equal(typeof both.body.message, 'string');
    const unknownConnection = await failure(() =>
      sdk.models.create({
        body: {
          name: 'bad',
          connection_id: '00000000-0000-4000-8000-000000000000',
          configuration: { query: 'select 1' },
        },
      }),
    );
    assert.equal(unknownConnection.status, 422);
    assert.equal((await failure(() => sdk.models.get('00000000-0000-4000-8000-000000000000'))).status, 404);
    assert.equal((await sdk.models.list()).data!.length, before);
    // A table model whose table was dropped since: the model is there, its table is not.
    await pgSource.query('create table dropped_later (id int)');
    const dropped = (
      await sdk.models.create({
        body: { name: 'dropped', connection_id: pgId, configuration: { table: 'public.dropped_later' } },
      })
    ).data!;
    await pgSource.query('drop table dropped_later');
    const sample = await failure(() => sdk.models.sample(dropped.id!));
    assert.equal(sample.status, 422, JSON.stringify(sample.body));
    assert.equal(sample.body.metadata.field, 'configuration.table');
    assert.match(sample.body.message, /dropped_later/);
    await sdk.models.remove(dropped.id!);
  });
});
