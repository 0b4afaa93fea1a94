import { quoteLiteral } from '../values.ts';

/**
 * CSV columns never become DOUBLE: a decimal such as 12345678901234567890.1234567891 stays exact text
 * instead of being rounded. Integers that fit become BIGINT; everything else stays VARCHAR.
 */
const CSV_TYPES = "['BOOLEAN', 'BIGINT', 'DATE', 'TIMESTAMP', 'TIMESTAMPTZ', 'VARCHAR']";

export const readers: Record<string, (path: string) => string> = {
  '.csv': (path) =>
    `read_csv_auto(${quoteLiteral(path)}, auto_type_candidates = ${CSV_TYPES}, allow_quoted_nulls = false)`,
  '.jsonl': (path) => `read_json_auto(${quoteLiteral(path)}, format = 'newline_delimited')`,
  '.ndjson': (path) => `read_json_auto(${quoteLiteral(path)}, format = 'newline_delimited')`,
  '.parquet': (path) => `read_parquet(${quoteLiteral(path)})`,
};
