import cliProgress from 'cli-progress';
import { reportedTableProgress } from '../../domain/table-progress.ts';
import type { Execution, TableExecution } from './wire.ts';

/** How `ferry run --wait` shows a run while it goes: live bars on a terminal, plain lines otherwise. */
export interface RunView {
  update(execution: Execution): void;
  stop(): void;
}

/** A table's line: rows, rate, and against the source's row estimate a bar, percentage and ETA. */
export function tableLine(schema: TableExecution): { rows: number; rate: string; progress: string } {
  const rows = schema.record_count ?? 0;
  const { rowsPerSecond: rate, percent, etaSeconds } = reportedTableProgress(schema);
  const filled = Math.round(((percent ?? 0) * barWidth) / 100);
  return {
    rows,
    rate: rate === undefined ? '-' : `${Math.round(rate).toLocaleString('en-US')} rows/s`,
    progress:
      percent === undefined
        ? ''
        : `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ${`${percent}%`.padStart(4)}` +
          (etaSeconds === undefined ? '' : `  ETA ${clock(etaSeconds)}`),
  };
}

const barWidth = 20;

/** `45s`, `3m 05s`, `2h 05m`. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

/**
 * One line per table: status, rows copied and the rate; with the source's row estimate also a bar, the
 * percentage and, while it runs, the ETA.
 */
export function ttyView(stream: NodeJS.WriteStream = process.stdout): RunView {
  const bars = new cliProgress.MultiBar({
    stream,
    format: (_options, params, payload) =>
      `  ${payload.table.padEnd(payload.width)}  ${payload.status.padEnd(11)} ${params.value
        .toLocaleString('en-US')
        .padStart(12)} rows  ${payload.rate.padEnd(16)}${payload.progress}`.trimEnd(),
    hideCursor: true,
    fps: 5,
  });
  const rows = new Map<string, cliProgress.SingleBar>();
  let header: cliProgress.SingleBar | undefined;
  return {
    update(execution) {
      const schemas = execution.schemas ?? [];
      const width = Math.max(5, ...schemas.map((s) => String(s.schema).length));
      const run = { table: 'run', status: execution.status, rate: '', progress: '', width };
      header ??= bars.create(0, 0, run);
      header.update(execution.record_count ?? execution.counts?.total ?? 0, run);
      for (const schema of schemas) {
        const line = tableLine(schema);
        const payload = { table: schema.schema, status: schema.status, ...line, width };
        const bar = rows.get(schema.schema) ?? bars.create(0, 0, payload);
        rows.set(schema.schema, bar);
        bar.update(line.rows, payload);
      }
    },
    stop: () => bars.stop(),
  };
}

/** A line whenever the run or one of its tables changes status: readable in CI logs and pipes. */
export function plainView(write: (line: string) => void): RunView {
  let runStatus: string | undefined;
  const states = new Map<string, string>();
  return {
    update(execution) {
      if (execution.status !== runStatus) {
        runStatus = execution.status;
        write(`run ${execution.id}: ${runStatus}`);
      }
      for (const schema of execution.schemas ?? []) {
        if (states.get(schema.schema) === schema.status) continue;
        states.set(schema.schema, schema.status);
        write(`  ${schema.schema}: ${schema.status} (${schema.record_count ?? 0} rows)`);
      }
    },
    stop() {},
  };
}

export const silentView: RunView = { update() {}, stop() {} };
