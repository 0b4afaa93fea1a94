import type { Command } from 'commander';
import { apiCommand, type ClientOptions, clientOf, type FerryClient } from './client.ts';
import { exitCodeOf, sleep } from './logs.ts';
import { print, printJson, show } from './output.ts';
import { plainView, type RunView, silentView, ttyView } from './run-progress.ts';
import { type SyncKind, syncKind, syncPath, terminalStatuses } from './sync-kinds.ts';
import type { Envelope, Execution } from './wire.ts';

const pollMs = 1000;

export async function startRun(
  client: FerryClient,
  kind: SyncKind,
  sync: string,
  resync?: boolean,
): Promise<Envelope<Execution>> {
  return client.call({
    method: 'POST',
    path: syncPath(kind, sync, '/executions'),
    body: resync ? { resync: true } : {},
  });
}

/** Polls the run until it is terminal; returns the last response body (`{data: execution}`). */
export async function waitForRun(
  client: FerryClient,
  kind: SyncKind,
  sync: string,
  executionId: string,
  view: RunView,
): Promise<Envelope<Execution>> {
  const path = syncPath(kind, sync, `/executions/${encodeURIComponent(executionId)}`);
  for (;;) {
    const body = await client.call<Envelope<Execution>>({ method: 'GET', path });
    view.update(body.data);
    if (terminalStatuses.has(body.data.status)) return body;
    await sleep(pollMs);
  }
}

/** The outcome in words: the run's status and message, then every table that did not complete. */
export function outcomeOf(execution: Execution): string {
  const records = execution.record_count ?? execution.counts?.total;
  const lines = [
    `run ${execution.id} ${execution.status}${records === undefined ? '' : `: ${records} records`}` +
      (execution.status_message ? ` (${execution.status_message})` : ''),
  ];
  for (const schema of execution.schemas ?? []) {
    if (schema.status === 'completed' && !schema.error_count) continue;
    lines.push(
      `  ${schema.schema}: ${schema.status}${schema.error_count ? `, ${schema.error_count} rows rejected` : ''}` +
        (schema.status_message ? `: ${schema.status_message}` : ''),
    );
  }
  for (const error of execution.errors ?? []) lines.push(`  ${error}`);
  return lines.join('\n');
}

/**
 * Waits for a started run, showing its progress, and returns the process exit code. Ctrl-C detaches
 * (the run goes on on the server) and says how to cancel it.
 */
export async function followRun(
  client: FerryClient,
  kind: SyncKind,
  sync: string,
  executionId: string,
  options: { json?: boolean; cancelHint: string },
): Promise<number> {
  const view = options.json ? silentView : process.stdout.isTTY ? ttyView() : plainView(print);
  const detach = () => {
    view.stop();
    process.stderr.write(
      `\nDetached; run ${executionId} goes on on the server. Cancel it with: ${options.cancelHint}\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', detach);
  try {
    const body = await waitForRun(client, kind, sync, executionId, view);
    view.stop();
    if (options.json) printJson(body);
    else if (body.data.status === 'completed') print(outcomeOf(body.data));
    else process.stderr.write(`${outcomeOf(body.data)}\n`);
    return exitCodeOf(body.data.status);
  } finally {
    process.off('SIGINT', detach);
  }
}

export function runCommand(): Command {
  return apiCommand('run')
    .description('Start a run of a sync; with --wait, show its progress and exit 0 if it completed, else 1')
    .argument('<sync>', 'sync id')
    .option('--resync', 'reload every table (bulk) or every record (model) from scratch')
    .option('-w, --wait', 'wait for the run to end, showing progress per table')
    .option('--model', 'a model sync (/api/syncs) instead of a bulk sync')
    .addHelpText(
      'after',
      '\nCtrl-C while waiting detaches: the run goes on on the server (cancel it with `ferry syncs cancel`).\n' +
        'With --json and --wait, only the final execution is printed, as the API returns it.',
    )
    .action(
      async (
        sync: string,
        options: ClientOptions & { resync?: boolean; wait?: boolean; model?: boolean },
      ) => {
        const client = clientOf(options);
        const kind = syncKind(options);
        const started = await startRun(client, kind, sync, options.resync);
        if (!options.wait) {
          show(options.json, started, () => `started run ${started.data.id} (${started.data.status})`);
          return;
        }
        if (!options.json) print(`started run ${started.data.id} of sync ${sync}`);
        process.exitCode = await followRun(client, kind, sync, started.data.id, {
          json: options.json,
          cancelHint: `ferry syncs cancel ${sync}${options.model ? ' --model' : ''}`,
        });
      },
    );
}
