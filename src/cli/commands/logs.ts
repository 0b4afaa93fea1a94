import type { Command } from 'commander';
import { apiCommand, type ClientOptions, clientOf, type FerryClient } from './client.ts';
import { print } from './output.ts';
import { bulkSyncs, syncPath, terminalStatuses } from './sync-kinds.ts';
import type { Envelope, Execution, LogEntry, LogPage } from './wire.ts';

/** The API's page size for console logs: a shorter page means the log is read to its end. */
const pageSize = 50;
const pollMs = 1000;

const formatEntry = (e: LogEntry): string =>
  `${e.timestamp} ${e.level.toUpperCase().padEnd(5)} ${e.schema ? `[${e.schema}] ` : ''}${e.message}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Prints the console log of a bulk run oldest first, from the `after` cursor on (`0`: the start),
 * page by page until a short page; returns the cursor to resume from.
 */
async function drain(
  client: FerryClient,
  path: string,
  after: string,
  json: boolean | undefined,
): Promise<string> {
  let cursor = after;
  for (;;) {
    const body = await client.call<Envelope<LogPage>>({
      method: 'GET',
      path,
      query: { after: cursor, limit: pageSize },
    });
    const entries = body.data.entries;
    for (const entry of entries) print(json ? JSON.stringify(entry) : formatEntry(entry));
    cursor = body.data.next_cursor ?? cursor;
    if (entries.length < pageSize) return cursor;
  }
}

/** The exit code of a finished run: 0 only when it completed without errors. */
export const exitCodeOf = (status: string): number => (status === 'completed' ? 0 : 1);

export function logsCommand(): Command {
  return apiCommand('logs')
    .description('Print the console log of a bulk sync run, oldest first')
    .argument('<sync>', 'sync id')
    .argument('<execution>', 'execution id')
    .option('-f, --follow', 'keep printing new lines until the run ends; exit 0 if it completed, else 1')
    .addHelpText(
      'after',
      '\nWith --json each log entry is printed as one JSON object per line, exactly as the API returns it.',
    )
    .action(async (sync: string, execution: string, options: ClientOptions & { follow?: boolean }) => {
      const client = clientOf(options);
      const executionPath = syncPath(bulkSyncs, sync, `/executions/${encodeURIComponent(execution)}`);
      const logPath = `${executionPath}/consolelog`;
      let cursor = await drain(client, logPath, '0', options.json);
      if (!options.follow) return;
      for (;;) {
        // The status is read before the last drain, so every line written before the end is printed.
        const { status } = (await client.call<Envelope<Execution>>({ method: 'GET', path: executionPath }))
          .data;
        cursor = await drain(client, logPath, cursor, options.json);
        if (terminalStatuses.has(status)) {
          process.exitCode = exitCodeOf(status);
          return;
        }
        await sleep(pollMs);
      }
    });
}
