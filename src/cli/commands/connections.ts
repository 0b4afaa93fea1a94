import { Command } from 'commander';
import { apiCommand, type ClientOptions, clientOf } from './client.ts';
import { readDefinition } from './definition-file.ts';
import { type Column, details, print, printJson, show, table } from './output.ts';
import type { Connection, Envelope } from './wire.ts';

const columns: Column<Connection>[] = [
  ['id', (c) => c.id],
  ['name', (c) => c.name],
  ['type', (c) => c.type?.id],
  ['status', (c) => c.status],
  ['created', (c) => c.created_at],
];

const fields: Column<Connection>[] = [
  ...columns,
  ['error', (c) => c.status_error],
  ['configuration', (c) => c.configuration],
];

export function connectionsCommand(): Command {
  const connections = new Command('connections').description('List, show, create and delete connections');
  connections.addCommand(
    apiCommand('list')
      .description('List connections')
      .action(async (options: ClientOptions) => {
        const body = await clientOf(options).call<Envelope<Connection[]>>({
          method: 'GET',
          path: '/api/connections',
        });
        show(options.json, body, () => table(body.data, columns));
      }),
  );
  connections.addCommand(
    apiCommand('get')
      .description('Show one connection (secrets are never returned)')
      .argument('<id>', 'connection id')
      .action(async (id: string, options: ClientOptions) => {
        const body = await clientOf(options).call<Envelope<Connection>>({
          method: 'GET',
          path: `/api/connections/${encodeURIComponent(id)}`,
        });
        show(options.json, body, () => details(body.data, fields));
      }),
  );
  connections.addCommand(
    apiCommand('create')
      .description(
        'Create a connection from a YAML or JSON file with the API body ({name, type, configuration})',
      )
      .requiredOption('-f, --file <path>', 'definition file (.yaml, .yml or .json; - for stdin)')
      .action(async (options: ClientOptions & { file: string }) => {
        const body = await clientOf(options).call<Envelope<Connection>>({
          method: 'POST',
          path: '/api/connections',
          body: readDefinition(options.file),
        });
        show(options.json, body, () => `created connection ${body.data.id} (${body.data.name})`);
      }),
  );
  connections.addCommand(
    apiCommand('delete')
      .description('Delete a connection')
      .argument('<id>', 'connection id')
      .action(async (id: string, options: ClientOptions) => {
        const body = await clientOf(options).call({
          method: 'DELETE',
          path: `/api/connections/${encodeURIComponent(id)}`,
        });
        // A 204 has no body: `--json` prints `null` so the output still parses.
        if (options.json) printJson(body ?? null);
        else print(`deleted connection ${id}`);
      }),
  );
  return connections;
}
