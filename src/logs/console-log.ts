import { and, asc, desc, eq, gt, type SQL } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import type { Db } from '../store/database.ts';
import { consoleLogs } from '../store/schema.ts';

export type ConsoleLevel = 'info' | 'warn' | 'error';

export interface ConsoleLogLine {
  executionId: string;
  /** The table ("schema") of the run the line is about; null or absent for the run as a whole. */
  schemaId?: string | null | undefined;
  level: ConsoleLevel;
  message: string;
}

export interface ConsoleLogEntry {
  /** The entry id as a string: pass it back as `after` to read what came since. */
  cursor: string;
  timestamp: Date;
  level: ConsoleLevel;
  message: string;
  schemaId: string | null;
}

export interface ConsoleLogPage {
  entries: ConsoleLogEntry[];
  /** The newest cursor returned, or the `after` given when nothing is new; null when the log is empty. */
  nextCursor: string | null;
}

/** The most entries one read returns; larger limits are capped to it (as Polytomic does). */
export const consoleLogMaxLimit = 50;

/** Appends one line to the console log of an execution. */
export async function appendConsoleLog(db: Db, line: ConsoleLogLine): Promise<void> {
  await db.insert(consoleLogs).values(toRow(line));
}

/** Appends several lines in one insert; their cursors follow the order given. */
export async function appendConsoleLogs(db: Db, lines: readonly ConsoleLogLine[]): Promise<void> {
  if (lines.length > 0) await db.insert(consoleLogs).values(lines.map(toRow));
}

const toRow = (line: ConsoleLogLine) => ({
  executionId: line.executionId,
  schemaId: line.schemaId ?? null,
  level: line.level,
  message: line.message,
});

/**
 * Reads the console log of an execution (every line, or one table's when `schemaId` is given).
 * Without `after`: the newest `limit` entries, newest first. With `after`: the entries strictly
 * newer than that cursor, oldest first, so a follower can poll with `nextCursor`.
 */
export async function readConsoleLog(
  db: Db,
  options: {
    executionId: string;
    schemaId?: string | undefined;
    limit?: number | undefined;
    after?: string | undefined;
  },
): Promise<ConsoleLogPage> {
  const limit = parseLimit(options.limit);
  const after = options.after === undefined ? undefined : parseCursor(options.after, 'after');
  const filters: SQL[] = [eq(consoleLogs.executionId, options.executionId)];
  if (options.schemaId !== undefined) filters.push(eq(consoleLogs.schemaId, options.schemaId));
  if (after !== undefined) filters.push(gt(consoleLogs.id, after));

  const rows = await db
    .select()
    .from(consoleLogs)
    .where(and(...filters))
    .orderBy(after === undefined ? desc(consoleLogs.id) : asc(consoleLogs.id))
    .limit(limit);
  const entries = rows.map(
    (row): ConsoleLogEntry => ({
      cursor: String(row.id),
      timestamp: row.createdAt,
      level: row.level,
      message: row.message,
      schemaId: row.schemaId,
    }),
  );
  const newest = after === undefined ? entries[0] : entries.at(-1);
  return {
    entries,
    nextCursor: newest?.cursor ?? (after === undefined ? null : String(after)),
  };
}

function parseLimit(limit: number | undefined): number {
  if (limit === undefined) return consoleLogMaxLimit;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new FerryError('validation_failed', 'limit must be a positive integer', { field: 'limit' });
  }
  return Math.min(limit, consoleLogMaxLimit);
}

/** A cursor is a non-negative integer string (an entry id). */
export function parseCursor(value: string, field = 'after'): number {
  const id = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new FerryError('validation_failed', `${field} must be a cursor returned by an earlier read`, {
      field,
    });
  }
  return id;
}
