import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/database.ts';
import { createPgDatabase } from '../support/databases.ts';

/** Both kinds of metadata store, each fresh and removed after: every store test runs on both. */
export const storeKinds = [
  {
    kind: 'embedded',
    async open(): Promise<{ store: Store; reopen: () => Promise<Store>; dispose: () => Promise<void> }> {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-store-'));
      const store = await openStore({ dataDir });
      return {
        store,
        reopen: () => openStore({ dataDir }),
        dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    kind: 'postgres',
    async open() {
      const database = await createPgDatabase();
      const store = await openStore({ databaseUrl: database.url, dataDir: '/nonexistent' });
      return {
        store,
        reopen: () => openStore({ databaseUrl: database.url, dataDir: '/nonexistent' }),
        dispose: () => database.drop(),
      };
    },
  },
] as const;
