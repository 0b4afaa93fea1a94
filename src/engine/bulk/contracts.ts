import type { Readable } from 'node:stream';
import type { RowFilter } from '../../domain/filters.ts';

/**
 * Contracts between the bulk engine, the sources that read tables and the destinations that load them.
 *
 * Values cross the boundary as text: every non-null value is the PostgreSQL text representation of
 * the value (`42`, `12345678901234567890.0123456789`, `2024-01-02 03:04:05.123456+00`, `t`/`f`,
 * JSON text, `\x0102` hex for bytes). Text is lossless for every type we move, and each destination
 * casts it to its column type. NULL is `null`, and the empty string stays `''`.
 */

/** Portable column types: each source maps its types onto them, each destination maps them to DDL. */
export type LogicalType =
  | { kind: 'boolean' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  /** precision/scale absent: unconstrained numeric. */
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'text' }
  | { kind: 'uuid' }
  | { kind: 'date' }
  | { kind: 'time' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'interval' }
  | { kind: 'json' }
  | { kind: 'bytes' };

export interface ColumnSpec {
  /** Column name in the source. */
  source: string;
  /** Column name in the destination (already normalized when the sync asks for it). */
  name: string;
  type: LogicalType;
  nullable: boolean;
}

/** Position of an incremental read: rows strictly after (value, primary key) come next. */
export interface CursorPosition {
  value: string;
  /** Primary key values of the last row, in primary key order. */
  pk: string[];
}

export interface ReadRequest {
  schemaId: string;
  columns: ColumnSpec[];
  /** Source column names of the primary key, in order; may be empty for keyless tables. */
  primaryKey: string[];
  /**
   * Incremental read: rows strictly after `after` in (cursorField, primaryKey...) order, in that
   * order only when `limit` is set. Without it the whole table is read (snapshot). Unlimited reads
   * come in no particular order: destinations compute the greatest position of what they loaded.
   */
  incremental?: { cursorField: string; after: CursorPosition | null };
  /** Only rows matching every filter are read (fields are source column names). */
  filters?: readonly RowFilter[];
  /** Read at most this many rows (test runs). */
  limit?: number;
  signal: AbortSignal;
}

/** A batch of rows: values in `columns` order, as text (see above). */
export type RowBatch = (string | null)[][];

export interface TableReader {
  /** Streams the rows in bounded batches; aborting `signal` stops the query in the source database. */
  read(request: ReadRequest): AsyncIterable<RowBatch>;
  /**
   * PostgreSQL sources only: the same rows as a COPY text-format byte stream, so that a PostgreSQL
   * destination can load them without parsing (the fast path).
   */
  copyText?(request: ReadRequest): Readable;
  /** Exact row count estimate for progress (may be approximate or undefined). */
  estimateRows?(schemaId: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Identifies one table of one sync at one destination: the key of its cursor state. */
export interface TableTarget {
  syncId: string;
  schemaId: string;
  /** Destination namespace: PostgreSQL/DuckDB schema, or sub-directory for Parquet. */
  namespace: string;
  table: string;
  columns: ColumnSpec[];
  /** Destination column names of the primary key. */
  primaryKey: string[];
  /** Destination column name of the cursor field in replicate mode. */
  cursorColumn?: string;
  /**
   * Destination column the data is clustered by (the table's `partition_key`): PostgreSQL indexes
   * it; DuckDB and Parquet store rows sorted by it, so scans filtering on it skip row groups.
   */
  partitionKey?: string;
}

export interface RejectedRow {
  row: (string | null)[];
  reason: string;
}

export interface LoadResult {
  rowsLoaded: number;
  inserted: number;
  updated: number;
  rejected: number;
  /** The cursor committed with the data (replicate), or null. */
  cursor: CursorPosition | null;
}

/** One load of one table, in a staging area of its own until `commit`. */
export interface TableLoad {
  /** Appends rows to the staging area. Rows the destination refuses go to `onReject`, the rest load. */
  write(batch: RowBatch): Promise<void>;
  /** Fast path: appends a COPY text stream (PostgreSQL destinations only). */
  writeCopyText?(stream: Readable): Promise<void>;
  /**
   * Makes the load visible atomically: snapshot swaps the staging table into place; replicate merges
   * it by primary key. The new cursor (the greatest (cursor, pk) loaded) is stored in the destination
   * in the same transaction, so data and cursor can never disagree.
   */
  commit(): Promise<LoadResult>;
  /** Drops the staging area; the destination keeps its previous state. Safe to call after a crash. */
  abort(): Promise<void>;
}

export interface TableWriter {
  /** Cursor committed with the destination's data for this table, or null (never loaded / resync). */
  readCursor(target: TableTarget): Promise<CursorPosition | null>;
  /**
   * Starts a load. `attemptId` names the staging area; a later attempt of the same execution first
   * removes stale staging areas of this table. `mode` replicate with `resync` reloads from scratch
   * (staging + swap) and stores the resulting cursor.
   */
  begin(
    target: TableTarget,
    options: {
      mode: 'snapshot' | 'replicate';
      resync: boolean;
      /**
       * With `resync`: recreate the destination table from the source's columns and types, dropping
       * the ones the source no longer has. Without it a resync keeps the table's shape (columns are
       * only ever added).
       */
      rebuild?: boolean;
      attemptId: string;
      signal: AbortSignal;
      onReject: (rejected: RejectedRow) => void;
    },
  ): Promise<TableLoad>;
  close(): Promise<void>;
}
