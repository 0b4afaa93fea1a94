#!/usr/bin/env node
// Ferry runs its TypeScript directly on Node >= 22.18 (type stripping). When started by an older
// Node (e.g. the machine's), re-run on the Node 22 that the project pins in node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`ferry needs Node >= 22.18 (this is ${process.version}); run npm install first`);
    process.exit(1);
  }
  const child = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}
const { registerModuleHooks } = await import('../src/cli/module-hooks.ts');
registerModuleHooks();
await import('../src/cli/main.ts');
