import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));

describe('bin/ferry.js', { skip: process.platform !== 'linux' && 'glibc only' }, () => {
  it('runs Ferry with two malloc arenas, in the same process, keeping its arguments and Node flags', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-bin-'));
    try {
      // Preloaded by every process that the command line starts: prints what each one sees.
      const probe = path.join(dir, 'probe.mjs');
      writeFileSync(
        probe,
        'process.stdout.write([process.pid, process.env.MALLOC_ARENA_MAX ?? "unset", ...process.argv.slice(2)].join(" ") + "\\n");\n',
      );
      const env = { ...process.env };
      delete env.MALLOC_ARENA_MAX;
      const run = spawnSync(process.execPath, ['--import', probe, bin, 'help', 'serve'], {
        env,
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.split('\n').filter((line) => /^\d+ /.test(line));
      assert.deepEqual(lines, [`${run.pid} unset help serve`, `${run.pid} 2 help serve`]);
      assert.match(run.stdout, /Usage: ferry serve/);

      const capped = spawnSync(process.execPath, ['--import', probe, bin, 'help'], {
        env: { ...env, MALLOC_ARENA_MAX: '4' },
        encoding: 'utf8',
      });
      assert.deepEqual(
        capped.stdout.split('\n').filter((line) => /^\d+ /.test(line)),
        [`${capped.pid} 4 help`],
        'a cap set by the operator is kept, with no second start',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
