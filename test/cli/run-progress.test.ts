import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { plainView, ttyView } from '../../src/cli/commands/run-progress.ts';
import type { Execution } from '../../src/cli/commands/wire.ts';

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

describe('run progress', () => {
  it('draws one live line per table on a terminal: status, rows and the rate measured while running', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let out = '';
    stream.on('data', (chunk) => (out += chunk));
    const view = ttyView(stream as unknown as NodeJS.WriteStream);
    view.update(execution('running', [1000, 0]));
    view.update(execution('running', [250000, 0]));
    view.update(execution('completed', [300000, 42]));
    view.stop();
    // Frames are throttled: the last one, drawn on stop, shows the final state.
    assert.match(out, /public\.t0\s+completed\s+300,000 rows\s+[\d,]+ rows\/s/);
    assert.match(out, /public\.t1\s+completed\s+42 rows/);
    assert.match(out, /run\s+completed\s+300,042 rows/);
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
