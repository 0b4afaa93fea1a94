import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPgDatabase, type TempDir, tempDir } from '../support/databases.ts';
import { type FerryProcess, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { type CliResult, cliFor, ferryCli, lines, ok } from './cli.ts';

// `ferry connections` and the CLI's contract: tables for people, the API's JSON with --json, API
// errors on stderr with exit code 1, usage errors with exit code 2.

describe('ferry connections and CLI errors', () => {
  let ferry: FerryProcess;
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let dir: TempDir;
  let cli: (...args: string[]) => Promise<CliResult>;

  before(async () => {
    [ferry, source] = await startAll([startFerry(), createPgDatabase()]);
    dir = tempDir('ferry-cli-');
    cli = cliFor(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await source?.drop();
    dir?.cleanup();
  });

  it('refuses bad flags and missing arguments with a usage error, exit code 2', async () => {
    const missing = await cli('syncs', 'start');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing required argument 'id'/);
    assert.match(missing.stderr, /ferry syncs start --help/);
    const unknown = await cli('connections', 'list', '--bogus');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--bogus'/);
    const badLimit = await cli('executions', 'list', randomUUID(), '--limit', 'ten');
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /--limit/);
    // Zero is no positive integer either: a usage error, not a request the API refuses (exit 1).
    const zeroLimit = await cli('executions', 'list', randomUUID(), '--limit', '0');
    assert.equal(zeroLimit.code, 2, zeroLimit.stderr);
    assert.match(zeroLimit.stderr, /--limit <n>' argument '0' is invalid. must be a positive integer/);
    assert.equal((await cli('connections', 'create')).code, 2, '-f is required');
  });

  it('creates, lists, shows and deletes connections from YAML and JSON files', async () => {
    const yamlFile = path.join(dir.path, 'source.yaml');
    writeFileSync(
      yamlFile,
      `name: cli source\ntype: postgresql\nconfiguration:\n${Object.entries(source.config)
        .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`)
        .join('\n')}\n`,
    );
    const created = JSON.parse(ok(await cli('connections', 'create', '-f', yamlFile, '--json')).stdout);
    const sourceId = created.data.id;
    assert.equal(created.data.name, 'cli source');

    const jsonFile = path.join(dir.path, 'copy.json');
    writeFileSync(
      jsonFile,
      JSON.stringify({ name: 'cli copy', type: 'postgresql', configuration: source.config }),
    );
    // --url instead of FERRY_URL
    const human = ok(
      await ferryCli(['connections', 'create', '-f', jsonFile, '--url', ferry.url], {
        FERRY_API_KEY: ferry.adminKey,
      }),
    );
    const copyId = /created connection (\S+) \(cli copy\)/.exec(human.stdout)?.[1];
    assert.ok(copyId, human.stdout);

    const list = ok(await cli('connections', 'list'));
    assert.match(lines(list.stdout)[0]!, /^ID\s+NAME\s+TYPE\s+STATUS\s+CREATED$/);
    assert.match(list.stdout, new RegExp(`${sourceId}\\s+cli source\\s+postgresql`));
    const listed = JSON.parse(ok(await cli('connections', 'list', '--json')).stdout);
    assert.deepEqual(listed.data.map((c: any) => c.id).sort(), [sourceId, copyId].sort());
    assert.match(ok(await cli('connections', 'get', sourceId)).stdout, /type:\s+postgresql/);

    assert.match(ok(await cli('connections', 'delete', copyId!)).stdout, /deleted connection/);
    const gone = await cli('connections', 'get', copyId!, '--json');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /not found.*\[HTTP 404\]/);
    assert.equal(gone.stdout, '', 'nothing on stdout: a script piping --json sees no half document');
  });

  it('prints the API error message and the field at fault, exit code 1', async () => {
    const bad = path.join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'name: nope\ntype: postgresql\nconfiguration:\n  port: not-a-port\n');
    const invalid = await cli('connections', 'create', '-f', bad);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^ferry: .+\(field: configuration\.\S+\) \[HTTP 4\d\d\]/);

    const unauthorized = await ferryCli(['connections', 'list', '--url', ferry.url]);
    assert.equal(unauthorized.code, 1);
    assert.match(unauthorized.stderr, /HTTP 401/);
    assert.match(unauthorized.stderr, /FERRY_API_KEY/);

    const unreadable = await cli('syncs', 'create', '-f', path.join(dir.path, 'missing.yaml'));
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stderr, /cannot read/);
  });
});
