import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FerryError } from '../domain/errors.ts';

/** Embedded stores this process holds, by lock file: a process may open its own store again. */
const held = new Map<string, number>();

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * PGlite is PostgreSQL in one process, without postmaster.pid: a second process that opens the same
 * directory (`ferry keys create`, `migrate` or another `serve` next to a running server) works on its
 * own copy of the pages, so its writes are never seen by the first and both may corrupt the files.
 * The lock file `<store>.lock` holds the owner's pid; a lock whose process has exited is taken over.
 * Returns the release function.
 */
export function lockEmbeddedStore(directory: string): () => void {
  const file = `${directory}.lock`;
  const count = held.get(file) ?? 0;
  if (count === 0) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new FerryError(
          'conflict',
          `the embedded store in ${directory} is in use by process ${owner} (a running \`ferry serve\`?); ` +
            'one process at a time may open it: stop that process first, or use its API ' +
            `(POST /api/organizations/{orgId}/users/{id}/keys for a key); if process ${owner} is not Ferry, ` +
            `delete ${file}`,
        );
      }
      writeFileSync(file, `${process.pid}\n`);
    }
  }
  held.set(file, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(file) ?? 1) - 1;
    if (left > 0) {
      held.set(file, left);
      return;
    }
    held.delete(file);
    rmSync(file, { force: true });
  };
}
