/**
 * How the `ferry` process resolves modules, registered by `bin/ferry.js` before anything else loads.
 *
 * drizzle-orm loads as its CommonJS build (the package ships the same code as both). To learn the
 * format of each file it imports, Node 22's ESM loader deserializes the nearest package.json and parses
 * its `exports` as JSON again, per import: for drizzle-orm (179 KB package.json, 137 KB of `exports`,
 * ~450 imports between the ~110 files a server loads) that was ~160 MB of garbage at start-up. It left
 * the server's heap at ~100 MB when idle, 35-45 MB of it dead strings that stayed until V8's next major
 * collection, usually after the first run. The CommonJS loader resolves relative requires by path.
 */
import { registerHooks } from 'node:module';

const loadedAsCommonJs = (specifier: string) =>
  specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/');

export function registerModuleHooks(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (!loadedAsCommonJs(specifier)) return nextResolve(specifier, context);
      const conditions = context.conditions.map((condition) =>
        condition === 'import' ? 'require' : condition,
      );
      return nextResolve(specifier, { ...context, conditions });
    },
  });
}
