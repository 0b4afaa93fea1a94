// Preloaded with `--import` into a process under test: appends the URL of every module the process
// resolves to the file named by FERRY_TEST_MODULE_LOG, so a test can tell which drivers it loaded.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.FERRY_TEST_MODULE_LOG;
if (log) {
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      appendFileSync(log, `${resolved.url}\n`);
      return resolved;
    },
  });
}
