import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { plainView, tableLine, ttyView } from '../../src/cli/commands/run-progress.ts';
import type { Execution, TableExecution } from '../../src/cli/commands/wire.ts';

// The two renderings of `ferry run --wait`, fed the executions a poll would return.

const execution = (status: string, rows: number[]): Execution => ({
  id: 'e1',
  status,
  record_count: rows.reduce((a, b) => a + b, 0),
  schemas: rows.map((count, i) => ({
    schema: `public.t${i}`,
    status: status === 'completed' ? 'completed' : i === 0 ? 'running' : 'created',
    record_count: count,
  })),
});

/** The frames drawn on a terminal for these polls; the last one, drawn on stop, shows the final state. */
function draw(...polls: Execution[]): string {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 160 });
  let out = '';
  stream.on('data', (chunk) => (out += chunk));
  const view = ttyView(stream as unknown as NodeJS.WriteStream);
  for (const poll of polls) view.update(poll);
  view.stop();
  return out;
}

/** A table of a run that started at 12:00:00, `seconds` later (the server's clock). */
const table = (
  status: string,
  rows: number,
  seconds: number,
  estimate?: number,
  schema = 'public.orders',
): TableExecution => {
  const at = new Date(Date.UTC(2026, 0, 1, 12, 0, seconds)).toISOString();
  return {
    schema,
    status,
    record_count: rows,
    ...(estimate === undefined ? {} : { estimated_record_count: estimate }),
    started_at: '2026-01-01T12:00:00.000Z',
    updated_at: at,
    ...(status === 'completed' ? { completed_at: at } : {}),
  };
};

describe('run progress', () => {
  it('draws one live line per table on a terminal: status, rows and rate', () => {
    const out = draw(execution('running', [1000, 0]), execution('running', [250000, 0]), {
      ...execution('completed', [300000, 42]),
      schemas: [
        table('completed', 300000, 20, undefined, 'public.t0'),
        table('completed', 42, 1, undefined, 'public.t1'),
      ],
    });
    assert.match(out, /public\.t0\s+completed\s+300,000 rows\s+15,000 rows\/s/);
    assert.match(out, /public\.t1\s+completed\s+42 rows\s+42 rows\/s/);
    assert.match(out, /run\s+completed\s+300,042 rows/);
  });

  it('adds a bar, the percentage of the estimate and the ETA while a table runs', () => {
    // 40,000 of 100,000 rows in 10 s: 4,000 rows/s, 60,000 rows (15 s) to go.
    const running = tableLine(table('running', 40_000, 10, 100_000));
    assert.deepEqual(running, {
      rows: 40_000,
      rate: '4,000 rows/s',
      progress: `${'█'.repeat(8)}${'░'.repeat(12)}  40%  ETA 15s`,
    });
    assert.match(tableLine(table('running', 1000, 10, 1_000_000)).progress, / {2}0% {2}ETA 2h 46m$/);
    assert.match(tableLine(table('running', 10_000, 10, 200_000)).progress, / {2}5% {2}ETA 3m 10s$/);
    assert.match(
      draw({ id: 'e1', status: 'running', schemas: [table('running', 40_000, 10, 100_000)] }),
      /public\.orders\s+running\s+40,000 rows\s+4,000 rows\/s\s+█{8}░{12}\s+40%\s+ETA 15s/,
    );
  });

  it('holds at 99% with no ETA past the estimate, and shows 100% once the table completed', () => {
    assert.deepEqual(tableLine(table('running', 120_000, 10, 100_000)).progress, `${'█'.repeat(20)}  99%`);
    assert.deepEqual(tableLine(table('completed', 120_000, 12, 100_000)).progress, `${'█'.repeat(20)} 100%`);
  });

  it('shows rows and rate only when the source gave no estimate', () => {
    assert.deepEqual(tableLine(table('running', 40_000, 10)), {
      rows: 40_000,
      rate: '4,000 rows/s',
      progress: '',
    });
    const out = draw({ id: 'e1', status: 'running', schemas: [table('running', 40_000, 10)] });
    assert.match(out, /public\.orders\s+running\s+40,000 rows\s+4,000 rows\/s/);
    assert.ok(out.includes('4,000 rows/s\x1B[0K'), 'the line ends after the rate');
    assert.doesNotMatch(out, /%|ETA/);
  });

  it('prints a plain line per status change elsewhere', () => {
    const printed: string[] = [];
    const view = plainView((line) => printed.push(line));
    view.update(execution('running', [10, 0]));
    view.update(execution('running', [20, 0]));
    view.update(execution('completed', [30, 5]));
    assert.deepEqual(printed, [
      'run e1: running',
      '  public.t0: running (10 rows)',
      '  public.t1: created (0 rows)',
      'run e1: completed',
      '  public.t0: completed (30 rows)',
      '  public.t1: completed (5 rows)',
    ]);
  });
});
