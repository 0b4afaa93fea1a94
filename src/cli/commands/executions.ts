import { Command, InvalidArgumentError } from 'commander';
import { apiCommand, type ClientOptions, clientOf } from './client.ts';
import { type Column, details, show, table } from './output.ts';
import { syncKind, syncPath } from './sync-kinds.ts';
import type { Envelope, Execution, TableExecution } from './wire.ts';

type ExecutionOptions = ClientOptions & { model?: boolean };

const tableColumns: Column<TableExecution>[] = [
  ['table', (s) => s.schema],
  ['status', (s) => s.status],
  ['records', (s) => s.record_count],
  ['errors', (s) => s.error_count],
  ['message', (s) => s.status_message],
];

/** An execution: its fields, then (bulk) one line per table. */
export function describeExecution(execution: Execution, columns: Column<Execution>[]): string {
  const head = details(execution, [...columns, ['message', (e) => e.status_message ?? e.errors]]);
  return Array.isArray(execution.schemas) && execution.schemas.length > 0
    ? `${head}\n\n${table(execution.schemas, tableColumns)}`
    : head;
}

const executionCommand = (name: string) =>
  apiCommand(name).option('--model', 'executions of a model sync instead of a bulk sync');

export function executionsCommand(): Command {
  const executions = new Command('executions').description('List and show the runs of a sync');
  executions.addCommand(
    executionCommand('list')
      .description('List the runs of a sync, newest first')
      .argument('<sync>', 'sync id')
      .option('--limit <n>', 'at most this many runs', (value) => {
        if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
        return Number(value);
      })
      .action(async (sync: string, options: ExecutionOptions & { limit?: number }) => {
        const kind = syncKind(options);
        const body = await clientOf(options).call<Envelope<Execution[]>>({
          method: 'GET',
          path: syncPath(kind, sync, '/executions'),
          query: { limit: options.limit },
        });
        show(options.json, body, () => table(body.data, kind.executionColumns));
      }),
  );
  executions.addCommand(
    executionCommand('get')
      .description('Show one run, with its tables')
      .argument('<sync>', 'sync id')
      .argument('<execution>', 'execution id')
      .action(async (sync: string, execution: string, options: ExecutionOptions) => {
        const kind = syncKind(options);
        const body = await clientOf(options).call<Envelope<Execution>>({
          method: 'GET',
          path: syncPath(kind, sync, `/executions/${encodeURIComponent(execution)}`),
        });
        show(options.json, body, () => describeExecution(body.data, kind.executionColumns));
      }),
  );
  return executions;
}
