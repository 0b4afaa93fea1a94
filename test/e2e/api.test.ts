import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PolytomicClient, PolytomicError } from 'polytomic';
import { createMysqlDatabase, createPgDatabase, tempDir } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// The foundation end to end: a real `ferry serve` process on the embedded store, driven by the
// official polytomic SDK and plain HTTP, against the machine's PostgreSQL and MariaDB.

const client = (ferry: FerryProcess, token: string) =>
  new PolytomicClient({ environment: ferry.url, token, version: '2024-02-08' });

/** Runs an SDK call that must fail and returns its status and body. */
async function failure(call: () => Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof PolytomicError, `expected a PolytomicError, got ${error}`);
    return { status: error.statusCode!, body: error.body };
  }
  assert.fail('the call succeeded');
}

describe('Ferry API end to end', () => {
  let ferry: FerryProcess;
  let admin: PolytomicClient;
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let mysql: Awaited<ReturnType<typeof createMysqlDatabase>>;
  let files: ReturnType<typeof tempDir>;

  before(async () => {
    [ferry, source, mysql] = await startAll([startFerry(), createPgDatabase(), createMysqlDatabase()]);
    admin = client(ferry, ferry.adminKey);
    files = tempDir();
    const pgClient = new pg.Client({ connectionString: source.url });
    await pgClient.connect();
    await pgClient.query(`create table "Users" (id int primary key, "Select" text, seen timestamptz);
      insert into "Users" values (1, 'a', '2024-01-02 03:04:05.123456+00'), (2, 'b', null)`);
    await pgClient.end();
  });

  after(async () => {
    const code = await ferry?.stop();
    assert.equal(code, 0, 'SIGTERM shuts the server down cleanly');
    await Promise.all([source?.drop(), mysql?.drop()]);
    files?.cleanup();
  });

  describe('operations', () => {
    it('serves health, readiness, OpenAPI and docs without a key', async () => {
      assert.deepEqual((await http(ferry.url, 'GET', '/healthz')).body, { status: 'ok' });
      assert.deepEqual((await http(ferry.url, 'GET', '/readyz')).body, {
        status: 'ready',
        store: 'embedded',
      });
      const spec = await http(ferry.url, 'GET', '/openapi.json');
      assert.equal(spec.body.openapi, '3.1.0');
      for (const route of [
        '/api/me',
        '/api/connections',
        '/api/connections/{id}/schemas/{schemaId}',
        '/api/jobs/{type}/{id}',
      ]) {
        assert.ok(spec.body.paths[route], `${route} is documented`);
      }
      assert.ok(
        spec.body.components.schemas.CreateConnectionRequestSchema,
        'request schemas come from the validators',
      );
      const docs = await fetch(`${ferry.url}/docs`);
      assert.match(await docs.text(), /swagger-ui-bundle\.js/);
      assert.equal((await fetch(`${ferry.url}/docs/swagger-ui-bundle.js`)).status, 200);
    });

    it('answers unknown routes with 404 JSON', async () => {
      const res = await http(ferry.url, 'GET', '/nope', { key: ferry.adminKey });
      assert.equal(res.status, 404);
      assert.equal(res.body.key, 'not_found');
      const api = await http(ferry.url, 'GET', '/api/nope', { key: ferry.adminKey });
      assert.equal(api.status, 404);
      assert.match(api.body.message, /no route for GET \/api\/nope/);
    });

    it('tags every response with a request id', async () => {
      const res = await http(ferry.url, 'GET', '/healthz');
      assert.match(res.headers.get('x-request-id') ?? '', /.+/);
    });
  });

  describe('auth', () => {
    it('identifies the admin key', async () => {
      const me = (await admin.identity.get()).data!;
      assert.equal(me.organization_name, 'Default');
      assert.equal(me.is_partner, true);
      assert.equal(me.is_user, false);
    });

    it('rejects missing and wrong keys with 401 in the RestErrResponse shape', async () => {
      const missing = await http(ferry.url, 'GET', '/api/me');
      assert.equal(missing.status, 401);
      assert.deepEqual(Object.keys(missing.body).sort(), ['code', 'error', 'status']);
      assert.equal(missing.body.code, 401);
      const wrong = await failure(() => client(ferry, 'fy_not_a_key').identity.get());
      assert.equal(wrong.status, 401);
    });

    it('accepts a key as Basic credentials and the X-Polytomic-Version header', async () => {
      for (const credentials of [`${ferry.adminKey}:`, `:${ferry.adminKey}`]) {
        const res = await http(ferry.url, 'GET', '/api/me', {
          headers: {
            authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
            'x-polytomic-version': '2024-02-08',
          },
        });
        assert.equal(res.status, 200);
      }
    });
  });

  describe('organizations, users and keys', () => {
    let orgB: string;
    let userB: string;
    let keyB: string;

    before(async () => {
      orgB = (await admin.organization.create({ name: `Org B ${Date.now()}` })).data!.id!;
      userB = (await admin.users.create(orgB, { email: 'b@example.com' })).data!.id!;
      keyB = (await admin.users.createApiKey(orgB, userB)).data!.value!;
    });

    it('lets the admin list organizations and an org key see only its own', async () => {
      const all = (await admin.organization.list()).data!.map((o) => o.id);
      assert.ok(all.includes(orgB) && all.length >= 2);
      const own = (await client(ferry, keyB).organization.list()).data!.map((o) => o.id);
      assert.deepEqual(own, [orgB]);
      const me = (await client(ferry, keyB).identity.get()).data!;
      assert.deepEqual(
        [me.id, me.email, me.organization_id, me.is_user],
        [userB, 'b@example.com', orgB, true],
      );
    });

    it('keeps admin operations for admin keys', async () => {
      const denied = await failure(() => client(ferry, keyB).organization.create({ name: 'sneaky' }));
      assert.equal(denied.status, 403);
    });

    it('refuses a duplicate organization name and a second key without force', async () => {
      assert.equal((await failure(() => admin.organization.create({ name: 'default' }))).status, 409);
      const again = await failure(() => admin.users.createApiKey(orgB, userB));
      assert.equal(again.status, 409);
      assert.equal(again.body.metadata.field, 'force');
    });

    it('revokes the previous key when forced', async () => {
      const replaced = (await admin.users.createApiKey(orgB, userB, { force: true })).data!.value!;
      assert.equal((await failure(() => client(ferry, keyB).identity.get())).status, 401);
      assert.equal((await client(ferry, replaced).identity.get()).data!.id, userB);
      keyB = replaced;
    });

    it("hides one organization's connections from another", async () => {
      const conn = (
        await admin.connections.create({ name: 'admin pg', type: 'postgresql', configuration: source.config })
      ).data!;
      const b = client(ferry, keyB);
      assert.equal((await failure(() => b.connections.get(conn.id!))).status, 404);
      assert.equal((await failure(() => b.connections.remove(conn.id!))).status, 404);
      assert.equal((await failure(() => b.schemas.getStatus(conn.id!))).status, 404);
      assert.ok(!(await b.connections.list()).data!.some((c) => c.id === conn.id));
      await admin.connections.remove(conn.id!);
    });

    it('answers 404 for another organization as a non-admin', async () => {
      const [defaultOrg] = (await admin.organization.list()).data!;
      assert.equal((await failure(() => client(ferry, keyB).organization.get(defaultOrg!.id!))).status, 404);
      assert.equal((await failure(() => client(ferry, keyB).users.list(defaultOrg!.id!))).status, 404);
    });

    it('stops the keys of a deleted user', async () => {
      const temp = (await admin.users.create(orgB, { email: 'gone@example.com' })).data!.id!;
      const key = (await admin.users.createApiKey(orgB, temp)).data!.value!;
      await admin.users.remove(temp, orgB);
      assert.equal((await failure(() => client(ferry, key).identity.get())).status, 401);
    });
  });

  describe('connections', () => {
    it('lists the connection types with their configuration schemas', async () => {
      const types = (await admin.connections.getTypes()).data!;
      assert.deepEqual(types.map((t) => t.id).sort(), [
        'duckdb',
        'files',
        'http',
        'mysql',
        'postgresql',
        'sqlite',
      ]);
      const schema = await http(ferry.url, 'GET', '/api/connection_types/postgresql', {
        key: ferry.adminKey,
      });
      assert.ok(schema.body.properties.hostname);
    });

    it('creates, reads, updates and deletes a PostgreSQL connection with its password redacted', async () => {
      const created = (
        await admin.connections.create({
          name: 'warehouse',
          type: 'postgresql',
          configuration: { ...source.config, password: 's3cret' },
        })
      ).data!;
      assert.equal(created.configuration!.password, '********');
      assert.equal(created.configuration!.hostname, '127.0.0.1');
      assert.equal(created.status, 'healthy');
      const fetched = (await admin.connections.get(created.id!)).data!;
      assert.equal(fetched.type!.id, 'postgresql');
      assert.equal(fetched.configuration!.password, '********');
      assert.ok(!JSON.stringify((await admin.connections.list()).data).includes('s3cret'));

      const updated = (
        await admin.connections.update(created.id!, {
          name: 'warehouse 2',
          configuration: { ...fetched.configuration },
        })
      ).data!;
      assert.equal(updated.name, 'warehouse 2');
      assert.equal(updated.configuration!.password, '********', 'the redacted value keeps the stored secret');

      await admin.connections.remove(created.id!);
      assert.equal((await failure(() => admin.connections.get(created.id!))).status, 404);
    });

    it('never stores a secret in clear', async () => {
      const created = (
        await admin.connections.create({
          name: 'clear?',
          type: 'postgresql',
          configuration: { ...source.config, password: 'plain-text-canary' },
        })
      ).data!;
      const store = await http(ferry.url, 'GET', `/api/connections/${created.id}`, { key: ferry.adminKey });
      assert.ok(!JSON.stringify(store.body).includes('plain-text-canary'));
      await admin.connections.remove(created.id!);
    });

    it('connects to MariaDB, a SQLite file and a directory of files', async () => {
      const sqlitePath = path.join(files.path, 'app.sqlite');
      const db = new DatabaseSync(sqlitePath);
      db.exec(`create table items (id integer primary key, name text); insert into items values (1, 'x')`);
      db.close();
      writeFileSync(path.join(files.path, 'people.csv'), 'id,name\n1,Ada\n2,Grace\n');
      for (const [type, configuration, schemaId] of [
        ['mysql', mysql.config, undefined],
        ['sqlite', { path: sqlitePath }, 'items'],
        ['files', { path: files.path }, 'people.csv'],
      ] as const) {
        const conn = (await admin.connections.create({ name: type, type, configuration })).data!;
        assert.equal(conn.status, 'healthy', type);
        if (schemaId) {
          const schema = (await admin.schemas.get(conn.id!, schemaId)).data!;
          assert.ok(
            schema.fields!.some((f) => f.name === 'id'),
            `${type} introspects ${schemaId}`,
          );
          const records = (await admin.schemas.getRecords(conn.id!, schemaId)).data!;
          assert.ok(records.length >= 1);
        }
        await admin.connections.remove(conn.id!);
      }
    });

    it('refuses an unreachable database with a clear error and creates nothing', async () => {
      const before = (await admin.connections.list()).data!.length;
      const res = await failure(() =>
        admin.connections.create({
          name: 'nowhere',
          type: 'postgresql',
          configuration: { hostname: '127.0.0.1', port: 1, database: 'x', username: 'x' },
        }),
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.key, 'connection_failed');
      assert.match(res.body.message, /127\.0\.0\.1|refused|connect/i);
      assert.equal((await admin.connections.list()).data!.length, before);
    });

    it('saves an unreachable database when validate is false', async () => {
      const conn = (
        await admin.connections.create({
          name: 'later',
          type: 'mysql',
          validate: false,
          configuration: { hostname: '127.0.0.1', port: 1, database: 'x', username: 'x' },
        })
      ).data!;
      assert.equal(conn.status, 'unchecked');
      await admin.connections.remove(conn.id!);
    });

    it('validates bodies with the field at fault', async () => {
      const cases: [unknown, number, string][] = [
        [{ type: 'postgresql', configuration: {} }, 422, 'name'],
        [{ name: 'x', type: 'oracle', configuration: {} }, 422, 'type'],
        [{ name: 'x', type: 'postgresql', configuration: { hostname: 'h' } }, 422, 'configuration.database'],
        [
          { name: 'x', type: 'postgresql', configuration: { ...source.config, port: 'abc' } },
          422,
          'configuration.port',
        ],
        [{ name: 'x', type: 'sqlite', configuration: [] }, 422, 'configuration'],
      ];
      for (const [body, status, field] of cases) {
        const res = await http(ferry.url, 'POST', '/api/connections', { key: ferry.adminKey, body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(res.body.metadata?.field, field, JSON.stringify(res.body));
      }
      const malformed = await http(ferry.url, 'POST', '/api/connections', {
        key: ferry.adminKey,
        body: '{"name":',
      });
      assert.equal(malformed.status, 400);
      const badId = await http(ferry.url, 'GET', '/api/connections/not-a-uuid', { key: ferry.adminKey });
      assert.equal(badId.status, 422);
      assert.equal(badId.body.metadata.field, 'id');
    });

    it('tests a configuration without saving, merging a stored connection', async () => {
      await http(ferry.url, 'POST', '/api/connections/test', {
        key: ferry.adminKey,
        body: { type: 'postgresql', configuration: source.config },
      }).then((res) => assert.equal(res.status, 200));
      const bad = await failure(() =>
        admin.connections.testConnection({
          type: 'postgresql',
          configuration: { ...source.config, database: 'nope_db' },
        }),
      );
      assert.equal(bad.status, 422);
      assert.match(bad.body.message, /nope_db/);
    });
  });

  describe('schemas, jobs and queries', () => {
    let conn: string;

    before(async () => {
      conn = (
        await admin.connections.create({ name: 'src', type: 'postgresql', configuration: source.config })
      ).data!.id!;
    });

    it('introspects tables with fields, types and primary keys', async () => {
      const list = await http(ferry.url, 'GET', `/api/connections/${conn}/schemas`, { key: ferry.adminKey });
      const users = list.body.data.find((s: any) => s.id === 'public.Users');
      assert.ok(users, JSON.stringify(list.body));
      const schema = (await admin.schemas.get(conn, 'public.Users')).data!;
      const byName = Object.fromEntries(schema.fields!.map((f) => [f.name, f]));
      assert.equal(byName.id!.is_primary_key, true);
      assert.equal(byName.Select!.type, 'string');
      assert.equal(byName.seen!.type, 'datetime');
      const records = (await admin.schemas.getRecords(conn, 'public.Users')).data!;
      assert.equal(records.length, 2);
      assert.match(String(records.find((r) => r.id === 1)!.seen), /\.123456/);
      assert.equal((await failure(() => admin.schemas.get(conn, 'public.missing'))).status, 404);
    });

    it('refreshes schemas through the job queue and reports status', async () => {
      const refresh = await http(ferry.url, 'POST', `/api/connections/${conn}/schemas/refresh`, {
        key: ferry.adminKey,
      });
      assert.equal(refresh.status, 202);
      const jobId = refresh.body.data.job_id;
      assert.ok(jobId);
      const status: any = await until(
        async () => (await admin.schemas.getStatus(conn)).data!,
        (s) => s.cache_status !== 'refreshing',
        'the schema refresh',
      );
      assert.equal(status.cache_status, 'fresh');
      assert.ok(status.last_refresh_finished);
      const job = (await admin.jobs.get(jobId, 'schemarefresh')).data!;
      assert.equal(job.status, 'done');
      assert.equal((await failure(() => admin.jobs.get(jobId, 'nosuchtype'))).status, 404);
    });

    it('runs queries asynchronously and returns rows or the database error', async () => {
      const started = (
        await admin.queryRunner.runQuery(conn, { query: 'select id from "Users" order by id' })
      ).data!;
      const result = await poll(() => admin.queryRunner.getQuery(started.id!));
      assert.equal(result.status, 'done');
      assert.deepEqual(result.results, [{ id: 1 }, { id: 2 }]);
      const bad = (await admin.queryRunner.runQuery(conn, { query: 'select nope from "Users"' })).data!;
      const failed = await poll(() => admin.queryRunner.getQuery(bad.id!));
      assert.equal(failed.status, 'failed');
      assert.match(failed.error!, /nope/);
    });
  });
});

function poll(read: () => Promise<{ data?: { status?: string } & Record<string, any> }>) {
  return until(
    async () => (await read()).data!,
    (data) => data?.status === 'done' || data?.status === 'failed',
    'the query',
  );
}
