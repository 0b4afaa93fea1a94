import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configVariables, loadConfig } from '../src/config.ts';
import { FerryError } from '../src/domain/errors.ts';

describe('configuration', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(loadConfig({}), {
      port: 8080,
      mcpPort: 9090,
      dataDir: './.ferry',
      databaseUrl: undefined,
      apiKey: undefined,
      secretKey: undefined,
      rateLimit: 100,
      heartbeatTimeout: 30,
      logLevel: 'info',
      jobRetentionDays: 30,
    });
    assert.deepEqual(
      configVariables.map(([name]) => name),
      [
        'PORT',
        'FERRY_MCP_PORT',
        'FERRY_DATA_DIR',
        'DATABASE_URL',
        'FERRY_API_KEY',
        'FERRY_SECRET_KEY',
        'FERRY_RATE_LIMIT',
        'FERRY_HEARTBEAT_TIMEOUT',
        'FERRY_LOG_LEVEL',
        'FERRY_JOB_RETENTION_DAYS',
      ],
    );
  });

  it('reads every variable and treats empty ones as unset', () => {
    const config = loadConfig({
      PORT: '0',
      FERRY_MCP_PORT: '9191',
      FERRY_DATA_DIR: '/var/lib/ferry',
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/ferry',
      FERRY_API_KEY: 'k'.repeat(20),
      FERRY_SECRET_KEY: '',
      FERRY_LOG_LEVEL: 'debug',
      FERRY_JOB_RETENTION_DAYS: '0.5',
    });
    assert.equal(config.port, 0);
    assert.equal(config.jobRetentionDays, 0.5);
    assert.equal(config.mcpPort, 9191);
    assert.equal(config.databaseUrl, 'postgres://u@127.0.0.1:5432/ferry');
    assert.equal(config.secretKey, undefined);
  });

  for (const [variable, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['FERRY_API_KEY', 'short'],
    ['FERRY_LOG_LEVEL', 'loud'],
    ['FERRY_RATE_LIMIT', '0'],
    ['FERRY_JOB_RETENTION_DAYS', '-1'],
    ['FERRY_JOB_RETENTION_DAYS', 'forever'],
    ['FERRY_HEARTBEAT_TIMEOUT', '1'],
  ] as const) {
    it(`rejects ${variable}=${value} naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) =>
          error instanceof FerryError && error.field === variable && error.message.includes(variable),
      );
    });
  }
});
