import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createPgDatabase } from '../support/databases.ts';
import { http, startFerry } from '../support/ferry.ts';

const binary = path.resolve(import.meta.dirname, '../../bin/ferry.js');

function ferryCli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [binary, ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('first start and restarts on the embedded store', () => {
  it('prints a generated admin key once, keeps it across restarts and seals the secret key file', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-start-'));
    try {
      const first = await startFerry({ dataDir, env: { FERRY_API_KEY: undefined } });
      assert.match(first.adminKey, /^fy_/);
      assert.match(first.stdout(), /shown only this once/);
      assert.equal((await http(first.url, 'GET', '/api/me', { key: first.adminKey })).status, 200);
      assert.equal(statSync(path.join(dataDir, 'secret.key')).mode & 0o777, 0o600);
      assert.equal(await first.stop(), 0);

      const second = await startFerry({ dataDir, env: { FERRY_API_KEY: undefined } });
      assert.doesNotMatch(second.stdout(), /shown only this once/);
      assert.equal((await http(second.url, 'GET', '/api/me', { key: first.adminKey })).status, 200);
      assert.equal(await second.stop(), 0);

      const wrongKey = ferryCli(['serve'], {
        FERRY_DATA_DIR: dataDir,
        PORT: '0',
        FERRY_SECRET_KEY: 'x'.repeat(32),
      });
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /FERRY_SECRET_KEY does not match/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses bad configuration with the variable named', () => {
    const result = ferryCli(['serve'], { PORT: 'eighty' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid PORT/);
  });

  it('limits requests per key with 429 and Retry-After', async () => {
    const ferry = await startFerry({ env: { FERRY_RATE_LIMIT: '2' } });
    try {
      // Sent at once: a burst, however slowly the machine answers each request.
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () => http(ferry.url, 'GET', '/api/me', { key: ferry.adminKey })),
      );
      const limited = statuses.find((r) => r.status === 429);
      assert.ok(limited, 'a burst beyond the limit is refused');
      assert.equal(limited.body.key, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    } finally {
      await ferry.stop();
    }
  });
});

describe('the CLI', () => {
  it('documents its commands and the environment', () => {
    const help = ferryCli(['--help'], {});
    assert.equal(help.code, 0);
    for (const command of ['serve', 'migrate', 'keys']) assert.match(help.stdout, new RegExp(command));
    const serve = ferryCli(['serve', '--help'], {});
    for (const variable of [
      'PORT',
      'FERRY_MCP_PORT',
      'FERRY_DATA_DIR',
      'DATABASE_URL',
      'FERRY_API_KEY',
      'FERRY_SECRET_KEY',
    ]) {
      assert.match(serve.stdout, new RegExp(variable));
    }
    const bad = ferryCli(['serve', '--bogus'], {});
    assert.equal(bad.code, 2, 'usage errors exit 2');
    assert.match(bad.stderr, /unknown option/);
    const notUuid = ferryCli(['keys', 'create', '--org', 'nope'], {});
    assert.equal(notUuid.code, 2, `a malformed option value is a usage error: ${notUuid.stderr}`);
    assert.match(notUuid.stderr, /--org <id>' argument 'nope' is invalid. must be a UUID/);
  });

  it('migrates a store and creates keys that the server accepts', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-'));
    try {
      const env = { FERRY_DATA_DIR: dataDir };
      assert.match(ferryCli(['migrate'], env).stdout, /applied: 0001_foundation/);
      assert.match(ferryCli(['migrate'], env).stdout, /up to date/);
      const created = ferryCli(['keys', 'create'], env);
      assert.equal(created.code, 0, created.stderr);
      const key = created.stdout.trim();
      const ferry = await startFerry({ dataDir, env: { FERRY_API_KEY: undefined } });
      try {
        const me = await http(ferry.url, 'GET', '/api/me', { key });
        assert.equal(me.body.data.is_partner, true);
        // The embedded store belongs to the running server: another process opening it would write
        // where the server never looks (its key refused) and risk the files; it is told so instead.
        for (const args of [['keys', 'create'], ['migrate']]) {
          const beside = ferryCli(args, env);
          assert.equal(beside.code, 1, `${args.join(' ')}: ${beside.stdout}`);
          assert.equal(beside.stdout, '', 'no key is printed');
          assert.match(beside.stderr, /embedded store .* is in use by process \d+/);
        }
        assert.equal((await http(ferry.url, 'GET', '/api/me', { key })).status, 200);
      } finally {
        await ferry.stop();
      }
      const afterStop = ferryCli(['keys', 'create'], env);
      assert.equal(afterStop.code, 0, `the lock goes with the server: ${afterStop.stderr}`);
      const unknownOrg = ferryCli(['keys', 'create', '--org', '00000000-0000-0000-0000-000000000000'], env);
      assert.equal(unknownOrg.code, 1);
      assert.match(unknownOrg.stderr, /organization .* not found/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('scale-out on PostgreSQL', () => {
  it('shares one store between processes started together, with one admin key', async () => {
    const database = await createPgDatabase();
    const env = { DATABASE_URL: database.url, FERRY_SECRET_KEY: 'shared-secret-key-for-all-replicas' };
    const [a, b] = await Promise.all([
      startFerry({ env }),
      startFerry({ env: { ...env, FERRY_API_KEY: undefined } }),
    ]);
    try {
      assert.deepEqual((await http(a.url, 'GET', '/readyz')).body, { status: 'ready', store: 'postgres' });
      // Exactly one of the two created the first key: the preset one, or the printed one.
      const printed = /shown only this once/.test(b.stdout());
      const key = printed ? b.adminKey : a.adminKey;
      const created = await http(a.url, 'POST', '/api/connections', {
        key,
        body: { name: 'store', type: 'postgresql', configuration: { ...database.config } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const seen = await http(b.url, 'GET', `/api/connections/${created.body.data.id}`, { key });
      assert.equal(seen.status, 200, 'the other replica reads the same store');
      const [{ count }] = await database.query('select count(*)::int as count from api_keys');
      assert.equal(count, 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await database.drop();
    }
  });
});
