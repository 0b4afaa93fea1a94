import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { type TempDir, tempDir } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';

// Ctrl-C during `ferry run --wait` detaches and leaves the run alone. The server runs without a
// worker, so the run stays queued for as long as the test needs, whatever the machine's speed.

const binary = path.resolve(import.meta.dirname, '../../bin/ferry.js');

describe('ferry run --wait and Ctrl-C', () => {
  let ferry: FerryProcess;
  let dir: TempDir;

  before(async () => {
    ferry = await startFerry({ args: ['--no-worker'] });
    dir = tempDir('ferry-detach-');
  });

  after(async () => {
    await ferry?.stop();
    dir?.cleanup();
  });

  it('detaches on SIGINT with exit code 130, prints how to cancel, and leaves the run queued', async () => {
    const file = path.join(dir.path, 'src.sqlite');
    const db = new DatabaseSync(file);
    db.exec('create table t (id integer primary key); insert into t values (1)');
    db.close();
    const call = async (method: string, route: string, body?: unknown) =>
      (await http(ferry.url, method, route, { key: ferry.adminKey, body })).body.data;
    const source = await call('POST', '/api/connections', {
      name: 's',
      type: 'sqlite',
      configuration: { path: file },
    });
    const destination = await call('POST', '/api/connections', {
      name: 'd',
      type: 'duckdb',
      configuration: { path: path.join(dir.path, 'out.duckdb') },
    });
    const sync = await call('POST', '/api/bulk/syncs', {
      name: 'detach',
      source_connection_id: source.id,
      destination_connection_id: destination.id,
      schedule: { frequency: 'manual' },
    });

    const child = spawn(process.execPath, [binary, 'run', sync.id, '--wait', '--url', ferry.url], {
      env: { ...process.env, FERRY_API_KEY: ferry.adminKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    // Interrupt once the CLI is polling: it has printed the run's first state.
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (/run \S+: scheduled/.test(stdout)) resolve();
      }),
    );
    child.kill('SIGINT');
    assert.equal(await exited, 130, stdout + stderr);
    assert.match(stderr, new RegExp(`Detached.*\\n?.*ferry syncs cancel ${sync.id}`));
    const executionId = /started run (\S+)/.exec(stdout)![1];
    const execution = await call('GET', `/api/bulk/syncs/${sync.id}/executions/${executionId}`);
    assert.equal(execution.status, 'scheduled', 'the run is left to the server');
  });
});
