import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPgDatabase, type TempDir, tempDir } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { type CliResult, cliFor, lines, ok } from './cli.ts';

// `ferry syncs`, `run --wait`, `executions` and `logs` on real bulk runs between two PostgreSQL
// databases: exit codes follow the run's outcome and --json prints the API's documents.

describe('ferry runs, executions and logs', () => {
  let ferry: FerryProcess;
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let destination: Awaited<ReturnType<typeof createPgDatabase>>;
  let dir: TempDir;
  let cli: (...args: string[]) => Promise<CliResult>;
  let sourceId: string;
  let destinationId: string;

  before(async () => {
    [ferry, source, destination] = await startAll([startFerry(), createPgDatabase(), createPgDatabase()]);
    dir = tempDir('ferry-cli-');
    cli = cliFor(ferry);
    await source.query(`create table items (id int primary key, name text not null);
      insert into items select g, 'item ' || g from generate_series(1, 1000) g;
      create table doomed (id int primary key);
      insert into doomed select generate_series(1, 10)`);
    const connect = async (name: string, configuration: object) =>
      (
        await http(ferry.url, 'POST', '/api/connections', {
          key: ferry.adminKey,
          body: { name, type: 'postgresql', configuration },
        })
      ).body.data.id;
    [sourceId, destinationId] = await Promise.all([
      connect('src', source.config),
      connect('dst', destination.config),
    ]);
  });

  after(async () => {
    await ferry?.stop();
    await Promise.all([source?.drop(), destination?.drop()]);
    dir?.cleanup();
  });

  /** `ferry syncs create -f` with a YAML definition; returns the sync id. */
  async function createSync(name: string, table: string): Promise<string> {
    const file = path.join(dir.path, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'mode: snapshot',
        `source_connection_id: ${sourceId}`,
        `destination_connection_id: ${destinationId}`,
        `destination_configuration: { schema: ${name} }`,
        'schedule: { frequency: manual }',
        `schemas: [${table}]`,
      ].join('\n'),
    );
    return JSON.parse(ok(await cli('syncs', 'create', '-f', file, '--json')).stdout).data.id;
  }

  it('runs a bulk sync with --wait to completion, then shows its executions and log', async () => {
    const syncId = await createSync('cli_items', 'public.items');
    assert.match(ok(await cli('syncs', 'list')).stdout, new RegExp(`${syncId}\\s+cli_items\\s+snapshot`));
    assert.equal(JSON.parse(ok(await cli('syncs', 'get', syncId, '--json')).stdout).data.name, 'cli_items');
    const shownSync = ok(await cli('syncs', 'get', syncId)).stdout;
    assert.match(shownSync, /name:\s+cli_items/);
    assert.match(shownSync, /public\.items\s+true\s+items/, 'the tables of the sync follow');

    const done = ok(await cli('run', syncId, '--wait'));
    assert.match(done.stdout, /public\.items: completed \(1000 rows\)/);
    assert.match(done.stdout, /run \S+ completed: 1000 records/);
    const [rows] = await destination.query('select count(*)::int as n from cli_items.items');
    assert.equal(rows.n, 1000);

    const executions = JSON.parse(ok(await cli('executions', 'list', syncId, '--json')).stdout);
    assert.equal(executions.data.length, 1);
    const executionId = executions.data[0].id;
    assert.equal(executions.data[0].status, 'completed');
    const shown = ok(await cli('executions', 'get', syncId, executionId));
    assert.match(shown.stdout, /status:\s+completed/);
    assert.match(shown.stdout, /public\.items\s+completed\s+1000/);

    const log = lines(ok(await cli('logs', syncId, executionId)).stdout);
    assert.ok(log.length > 1, log.join('\n'));
    assert.match(log.at(-1)!, /execution completed/, 'oldest first: the end of the run comes last');
    const entries = lines(ok(await cli('logs', syncId, executionId, '--json')).stdout).map((l) =>
      JSON.parse(l),
    );
    assert.equal(entries.length, log.length);
    assert.ok(entries.every((e, i) => i === 0 || Number(e.cursor) > Number(entries[i - 1].cursor)));
  });

  it('follows the log of a run until it ends, and exits 0', async () => {
    const syncId = await createSync('cli_follow', 'public.items');
    const started = JSON.parse(ok(await cli('syncs', 'start', syncId, '--json')).stdout).data;
    const followed = ok(await cli('logs', syncId, started.id, '--follow'));
    assert.match(lines(followed.stdout).at(-1)!, /execution completed/);
    const execution = JSON.parse(ok(await cli('executions', 'get', syncId, started.id, '--json')).stdout);
    assert.equal(execution.data.status, 'completed');
  });

  it('exits 1 with the reason when the run fails (its source table was dropped)', async () => {
    const syncId = await createSync('cli_doomed', 'public.doomed');
    await source.query('drop table doomed');
    const failed = await cli('run', syncId, '--wait');
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stderr, /run \S+ failed/);
    assert.match(failed.stderr, /public\.doomed: failed: .*doomed/);

    const json = await cli('run', syncId, '--wait', '--json');
    assert.equal(json.code, 1);
    const execution = JSON.parse(json.stdout).data;
    assert.equal(execution.status, 'failed');
    const follow = await cli('logs', syncId, execution.id, '--follow');
    assert.equal(follow.code, 1, 'logs --follow exits by the run outcome');
  });
});
