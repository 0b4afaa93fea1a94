import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Store } from '../../src/store/database.ts';
import { migrate } from '../../src/store/migrate.ts';
import { executions, organizations } from '../../src/store/schema.ts';
import { storeKinds } from '../store/stores.ts';

export { storeKinds };

export interface LogFixture {
  store: Store;
  /** A scratch data directory for record log files and exports. */
  dataDir: string;
  /** A fresh execution row (bulk, running) to hang logs on. */
  newExecution(): Promise<string>;
}

/** Opens a migrated store of `kind` before the suite and removes it after. */
export function useLogFixture(kind: (typeof storeKinds)[number]): LogFixture {
  const fixture = {} as LogFixture;
  let dispose: (() => Promise<void>) | undefined;
  let organizationId = '';
  before(async () => {
    const opened = await kind.open();
    dispose = opened.dispose;
    fixture.store = opened.store;
    fixture.dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-logs-'));
    await migrate(opened.store);
    const [org] = await opened.store.db
      .insert(organizations)
      .values({ name: 'logs' })
      .returning({ id: organizations.id });
    organizationId = org!.id;
  });
  after(async () => {
    await fixture.store?.close();
    await dispose?.();
    if (fixture.dataDir) rmSync(fixture.dataDir, { recursive: true, force: true });
  });
  fixture.newExecution = async () => {
    const [row] = await fixture.store.db
      .insert(executions)
      .values({ organizationId, syncKind: 'bulk', syncId: randomUUID(), status: 'running' })
      .returning({ id: executions.id });
    return row!.id;
  };
  return fixture;
}
