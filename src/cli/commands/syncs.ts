import { Command } from 'commander';
import { apiCommand, type ClientOptions, clientOf } from './client.ts';
import { readDefinition } from './definition-file.ts';
import { details, print, show, table } from './output.ts';
import { syncKind, syncPath } from './sync-kinds.ts';
import type { Envelope, Execution, Sync, SyncTable } from './wire.ts';

type SyncOptions = ClientOptions & { model?: boolean };

/** A sync command: `--url`, `--json` and `--model` (model syncs instead of bulk syncs). */
const syncCommand = (name: string) =>
  apiCommand(name).option('--model', 'a model sync (/api/syncs) instead of a bulk sync (/api/bulk/syncs)');

export function syncsCommand(): Command {
  const syncs = new Command('syncs').description(
    'List, show, create, start and cancel bulk syncs (model syncs with --model)',
  );
  syncs.addCommand(
    syncCommand('list')
      .description('List syncs')
      .action(async (options: SyncOptions) => {
        const kind = syncKind(options);
        const body = await clientOf(options).call<Envelope<Sync[]>>({ method: 'GET', path: kind.base });
        show(options.json, body, () => table(body.data, kind.columns));
      }),
  );
  syncs.addCommand(
    syncCommand('get')
      .description("Show one sync (a bulk sync with its tables; --json prints the sync's document only)")
      .argument('<id>', 'sync id')
      .action(async (id: string, options: SyncOptions) => {
        const kind = syncKind(options);
        const client = clientOf(options);
        const body = await client.call<Envelope<Sync>>({ method: 'GET', path: syncPath(kind, id) });
        if (options.json || options.model) {
          show(options.json, body, () => details(body.data, kind.columns));
          return;
        }
        // A bulk sync's document leaves its tables to their own route.
        const tables = await client.call<Envelope<SyncTable[]>>({
          method: 'GET',
          path: syncPath(kind, id, '/schemas'),
        });
        print(
          `${details(body.data, kind.columns)}\n\n${table(tables.data, [
            ['table', (t) => t.id],
            ['enabled', (t) => t.enabled],
            ['output', (t) => t.output_name],
            ['tracking field', (t) => t.tracking_field],
          ])}`,
        );
      }),
  );
  syncs.addCommand(
    syncCommand('create')
      .description('Create a sync from a YAML or JSON file with the API body')
      .requiredOption('-f, --file <path>', 'definition file (.yaml, .yml or .json; - for stdin)')
      .action(async (options: SyncOptions & { file: string }) => {
        const kind = syncKind(options);
        const body = await clientOf(options).call<Envelope<Sync>>({
          method: 'POST',
          path: kind.base,
          body: readDefinition(options.file),
        });
        show(options.json, body, () => `created ${kind.noun} ${body.data.id} (${body.data.name})`);
      }),
  );
  syncs.addCommand(
    syncCommand('start')
      .description('Start a run (returns the active run when one is already queued or running)')
      .argument('<id>', 'sync id')
      .option('--resync', 'reload every table (bulk) or every record (model) from scratch')
      .action(async (id: string, options: SyncOptions & { resync?: boolean }) => {
        const kind = syncKind(options);
        const body = await clientOf(options).call<Envelope<Execution>>({
          method: 'POST',
          path: syncPath(kind, id, '/executions'),
          body: options.resync ? { resync: true } : {},
        });
        show(
          options.json,
          body,
          () =>
            `started execution ${body.data.id} (${body.data.status})` +
            (options.model ? '' : `\nfollow it with: ferry logs ${id} ${body.data.id} --follow`),
        );
      }),
  );
  syncs.addCommand(
    syncCommand('cancel')
      .description("Cancel the sync's active run")
      .argument('<id>', 'sync id')
      .action(async (id: string, options: SyncOptions) => {
        const kind = syncKind(options);
        const body = await clientOf(options).call<Envelope<{ message?: string }>>({
          method: 'POST',
          path: syncPath(kind, id, '/cancel'),
        });
        show(options.json, body, () => body.data?.message ?? `cancel requested for ${id}`);
      }),
  );
  return syncs;
}
