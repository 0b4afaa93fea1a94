#!/usr/bin/env node
// Ferry runs its TypeScript directly on Node >= 22.18 (type stripping). When started by an older
// Node (e.g. the machine's), re-run on the Node 22 that the project pins in node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ARENAS = '2';
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`ferry needs Node >= 22.18 (this is ${process.version}); run npm install first`);
    process.exit(1);
  }
  const child = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { MALLOC_ARENA_MAX: ARENAS, ...process.env },
  });
  process.exit(child.status ?? 1);
}
// glibc gives each thread that allocates a heap of its own (up to 8 per core), where freed memory
// stays; DuckDB's statements run on Node's thread pool. Two heaps took 15-20 MB off the peak RSS of
// a 5M-row DuckDB load at the same speed. glibc reads the cap only as the process starts, so the
// process replaces itself once with the cap set (same pid, same arguments).
if (process.platform === 'linux' && process.env.MALLOC_ARENA_MAX === undefined) {
  const argv = [
    process.execPath,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2),
  ];
  process.execve(process.execPath, argv, { ...process.env, MALLOC_ARENA_MAX: ARENAS });
}
const { registerModuleHooks } = await import('../src/cli/module-hooks.ts');
registerModuleHooks();
await import('../src/cli/main.ts');
