/** What the duckdb and files connectors share: both read through an embedded DuckDB. */
import {
  type DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBTypeId,
  type DuckDBValueConverter,
  type Json,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';
import { queryFailed } from './errors.ts';
import type { QueryResult, Row } from './types.ts';
import { isoTimestamp, rowLimit, safeInteger } from './values.ts';

const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Instance options of every DuckDB we open: no extension downloads, no file access beyond
 * what the connector sets up, and user SQL cannot change that (`lock_configuration`). Memory is
 * bounded (DuckDB's default is 80% of the machine): large loads spill to disk instead of growing
 * the server's RSS.
 */
export const lockedDownOptions = {
  memory_limit: '512MB',
  autoinstall_known_extensions: 'false',
  enable_external_access: 'false',
  lock_configuration: 'true',
} as const;

const integerTypes = new Set<number>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
]);
const timestampTypes = new Set<number>([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
]);

/** DuckDB's JSON conversion, with the `Row` rules: safe integers as numbers, blobs as base64, JSON parsed, ISO timestamps. */
const rowValueConverter: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (value === null) return null;
  if (integerTypes.has(type.typeId)) return safeInteger(value as bigint);
  if (type.typeId === DuckDBTypeId.BLOB)
    return Buffer.from((value as DuckDBBlobValue).bytes).toString('base64');
  if (timestampTypes.has(type.typeId)) return isoTimestamp(String(value));
  return JsonDuckDBValueConverter(value, type, converter);
};

const parseJson = (value: Json): Json => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as Json;
  } catch {
    return value;
  }
};

/** Runs SQL, reading only as many chunks as needed for `limit` rows; interrupted after a timeout. */
export async function runLimited(
  connection: DuckDBConnection,
  sql: string,
  limit: number,
): Promise<QueryResult> {
  const max = rowLimit(limit);
  const timer = setTimeout(() => connection.interrupt(), STATEMENT_TIMEOUT_MS);
  try {
    const reader = await connection.runAndReadUntil(sql, max);
    const fields = reader.columnNames();
    // The converter sees the vectors' types, which lose the JSON alias; the result's column types keep it.
    const json = reader.columnTypes().map((type) => type.alias === 'JSON');
    const rows = reader
      .convertRows(rowValueConverter)
      .slice(0, max)
      .map((values) => {
        const row: Row = {};
        values.forEach((value, index) => {
          row[fields[index]!] = json[index] ? parseJson(value) : value;
        });
        return row;
      });
    return { fields, rows };
  } catch (error) {
    throw queryFailed(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Rows of an internal query as plain JSON values. */
export async function readAll(connection: DuckDBConnection, sql: string): Promise<Record<string, Json>[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}
