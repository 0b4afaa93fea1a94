import cliProgress from 'cli-progress';
import type { Execution, TableExecution } from './wire.ts';

/** How `ferry run --wait` shows a run while it goes: live bars on a terminal, plain lines otherwise. */
export interface RunView {
  update(execution: Execution): void;
  stop(): void;
}

interface TableState {
  status: string;
  rows: number;
  /** First sample seen while running: the rate is measured from there. */
  since?: { at: number; rows: number };
  /** A finished table's own start and end (server clocks): its rate is that of its whole run. */
  ran?: { at: number; rows: number; until: number };
}

const rateOf = (state: TableState, now: number): string => {
  const window = state.ran ?? (state.since && { ...state.since, until: now });
  if (!window || window.until <= window.at) return '-';
  const perSecond = ((state.rows - window.rows) * 1000) / (window.until - window.at);
  return `${Math.round(perSecond).toLocaleString('en-US')} rows/s`;
};

function track(states: Map<string, TableState>, schema: TableExecution, now: number): TableState {
  const state: TableState = states.get(schema.schema) ?? { status: schema.status, rows: 0 };
  state.status = schema.status;
  state.rows = schema.record_count ?? 0;
  if (state.status === 'running') state.since ??= { at: now, rows: state.rows };
  if (schema.started_at && schema.completed_at) {
    state.ran = { at: Date.parse(schema.started_at), rows: 0, until: Date.parse(schema.completed_at) };
  }
  states.set(schema.schema, state);
  return state;
}

/**
 * One line per table: rows copied and the rate. The API reports no row total for a table, so there
 * is no percentage or ETA to show.
 */
export function ttyView(stream: NodeJS.WriteStream = process.stdout): RunView {
  const bars = new cliProgress.MultiBar({
    stream,
    format: (_options, params, payload) =>
      `  ${payload.table.padEnd(payload.width)}  ${payload.status.padEnd(11)} ${params.value
        .toLocaleString('en-US')
        .padStart(12)} rows  ${payload.rate}`,
    hideCursor: true,
    fps: 5,
  });
  const rows = new Map<string, cliProgress.SingleBar>();
  const states = new Map<string, TableState>();
  let header: cliProgress.SingleBar | undefined;
  return {
    update(execution) {
      const now = Date.now();
      const schemas = execution.schemas ?? [];
      const width = Math.max(5, ...schemas.map((s) => String(s.schema).length));
      header ??= bars.create(0, 0, { table: 'run', status: '', rate: '', width });
      header.update(execution.record_count ?? execution.counts?.total ?? 0, {
        table: 'run',
        status: execution.status,
        rate: '',
        width,
      });
      for (const schema of schemas) {
        const state = track(states, schema, now);
        const payload = { table: schema.schema, status: state.status, rate: rateOf(state, now), width };
        const bar = rows.get(schema.schema) ?? bars.create(0, 0, payload);
        rows.set(schema.schema, bar);
        bar.update(state.rows, payload);
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
