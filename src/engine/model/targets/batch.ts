import { driverMessage } from '../../../connectors/errors.ts';
import type { MappedRecord } from '../plan.ts';

/** A record the target refused, with the target's reason. */
export interface RejectedRecord {
  record: MappedRecord;
  reason: string;
}

/** What one batch did; a record ends in at most one list (none when the mode skips it). */
export interface ApplyResult {
  inserted: MappedRecord[];
  updated: MappedRecord[];
  deleted: MappedRecord[];
  rejected: RejectedRecord[];
}

export const emptyResult = (): ApplyResult => ({ inserted: [], updated: [], deleted: [], rejected: [] });

/** State rows read per query. */
const statePage = 10_000;

/**
 * Passes `add` every `[identity, hash]` of a sync's state, read a page at a time in identity order
 * (`page` returns up to `limit` rows after the identity `after`), so that Ferry never holds more than a
 * page of rows.
 */
export async function loadStatePages(
  page: (after: string | undefined, limit: number) => Promise<[string, string][]>,
  add: (identity: string, hash: string) => void,
): Promise<void> {
  for (let after: string | undefined; ; ) {
    const rows = await page(after, statePage);
    for (const [identity, hash] of rows) add(identity, hash);
    if (rows.length < statePage) return;
    after = rows.at(-1)![0];
  }
}

/** MySQL errors of a record's values that carry a generic SQLSTATE: no default, incorrect value, truncated. */
const mysqlRecordErrnos = new Set([1364, 1366, 1265]);

/** Database errors caused by a record's values: data exceptions and integrity violations. */
export const isRecordError = (error: unknown): boolean => {
  const { code, sqlState, errno } = (error ?? {}) as { code?: unknown; sqlState?: unknown; errno?: unknown };
  if (typeof errno === 'number' && mysqlRecordErrnos.has(errno)) return true;
  const state = typeof sqlState === 'string' ? sqlState : code;
  return typeof state === 'string' && (/^(22|23)/.test(state) || state === '54000');
};

/**
 * Applies a batch atomically; when the target refuses it for a record's values, splits it in halves
 * and applies each, down to the single records, which are rejected with the target's reason. Other
 * failures (connection, permissions) end the run.
 */
export async function applyBisected(
  records: MappedRecord[],
  attempt: (records: MappedRecord[]) => Promise<ApplyResult>,
): Promise<ApplyResult> {
  try {
    return await attempt(records);
  } catch (error) {
    if (!isRecordError(error)) throw error;
    if (records.length === 1)
      return { ...emptyResult(), rejected: [{ record: records[0]!, reason: driverMessage(error) }] };
    const middle = Math.ceil(records.length / 2);
    const first = await applyBisected(records.slice(0, middle), attempt);
    const second = await applyBisected(records.slice(middle), attempt);
    return {
      inserted: [...first.inserted, ...second.inserted],
      updated: [...first.updated, ...second.updated],
      deleted: [...first.deleted, ...second.deleted],
      rejected: [...first.rejected, ...second.rejected],
    };
  }
}
