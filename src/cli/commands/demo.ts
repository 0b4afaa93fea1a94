import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config.ts';
import { apiCommand, type ClientOptions, clientOf, type FerryClient } from './client.ts';
import { demoTables, writeDemoSource } from './demo-data.ts';
import { print } from './output.ts';
import { followRun, startRun } from './run.ts';
import { bulkSyncs } from './sync-kinds.ts';
import type { Connection, Envelope, Sync } from './wire.ts';

const names = {
  source: 'Demo shop (SQLite)',
  destination: 'Demo warehouse (DuckDB)',
  sync: 'Demo: shop to warehouse',
};

/** Reuses the demo's object of an earlier `ferry demo` (same name, same files) or creates it. */
async function findOrCreate<T extends { id: string }>(
  client: FerryClient,
  listPath: string,
  matches: (item: T) => boolean,
  body: Record<string, unknown>,
): Promise<{ id: string; reused: boolean }> {
  const existing = (await client.call<Envelope<T[]>>({ method: 'GET', path: listPath })).data.find(matches);
  if (existing) return { id: existing.id, reused: true };
  const created = await client.call<Envelope<T>>({ method: 'POST', path: listPath, body });
  return { id: created.data.id, reused: false };
}

export function demoCommand(loadConfig: () => Config): Command {
  return apiCommand('demo')
    .description('Create sample data, a SQLite-to-DuckDB bulk sync, and run it: a first run in a minute')
    .option(
      '--dir <path>',
      'where the sample files go (default: <FERRY_DATA_DIR>/demo); the server must see it',
    )
    .action(async (options: ClientOptions & { dir?: string }) => {
      const dir = path.resolve(options.dir ?? path.join(loadConfig().dataDir, 'demo'));
      const sourceFile = path.join(dir, 'shop.sqlite');
      const warehouseFile = path.join(dir, 'warehouse.duckdb');
      const client = clientOf(options);
      const say = (text: string) => (options.json ? undefined : print(text));

      await writeDemoSource(dir, sourceFile);
      say(
        `wrote ${sourceFile}: ${Object.entries(demoTables)
          .map(([table, rows]) => `${rows} ${table}`)
          .join(', ')}`,
      );
      const samePath = (file: string) => (c: Connection) => c.configuration?.path === file;
      const source = await findOrCreate<Connection>(
        client,
        '/api/connections',
        (c) => c.name === names.source && samePath(sourceFile)(c),
        { name: names.source, type: 'sqlite', configuration: { path: sourceFile } },
      );
      const destination = await findOrCreate<Connection>(
        client,
        '/api/connections',
        (c) => c.name === names.destination && samePath(warehouseFile)(c),
        { name: names.destination, type: 'duckdb', configuration: { path: warehouseFile } },
      );
      say(`connections: ${source.id} (${names.source}), ${destination.id} (${names.destination})`);
      const sync = await findOrCreate<Sync>(
        client,
        bulkSyncs.base,
        (s) =>
          s.name === names.sync &&
          s.source_connection_id === source.id &&
          s.destination_connection_id === destination.id,
        {
          name: names.sync,
          source_connection_id: source.id,
          destination_connection_id: destination.id,
          mode: 'snapshot',
          schedule: { frequency: 'manual' },
        },
      );
      say(`bulk sync: ${sync.id} (${names.sync}${sync.reused ? ', from an earlier demo' : ''})`);

      const started = await startRun(client, bulkSyncs, sync.id);
      say(`started run ${started.data.id}`);
      const code = await followRun(client, bulkSyncs, sync.id, started.data.id, {
        json: options.json,
        cancelHint: `ferry syncs cancel ${sync.id}`,
      });
      if (code === 0) {
        say(
          `\nThe tables are in ${warehouseFile}. Next, the run table by table, its console log, and another run:\n` +
            `  npx ferry executions get ${sync.id} ${started.data.id}\n` +
            `  npx ferry logs ${sync.id} ${started.data.id}\n` +
            `  npx ferry run ${sync.id} --wait\n` +
            `or open ${client.url}/ for the dashboard.`,
        );
      }
      process.exitCode = code;
    });
}
