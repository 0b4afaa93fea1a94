import type { LogicalType } from '../../engine/bulk/contracts.ts';

/**
 * Portable type of a DuckDB column from its type name as `duckdb_columns()` / `DESCRIBE` spell it
 * (`INTEGER`, `DECIMAL(38,10)`, `TIMESTAMP WITH TIME ZONE`, `VARCHAR[]`, `STRUCT(a INTEGER)`).
 * Used by the duckdb and files connectors. Nested types travel as JSON.
 */
export function duckdbLogicalType(typeName: string): LogicalType {
  const t = typeName.trim().toUpperCase();
  if (/\[\d*\]$/.test(t) || /^(STRUCT|MAP|UNION|LIST|ARRAY)\b/.test(t)) return { kind: 'json' };
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(t);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2] ?? 0) };
  switch (t) {
    case 'BOOLEAN':
    case 'BOOL':
      return { kind: 'boolean' };
    case 'TINYINT':
    case 'UTINYINT':
    case 'SMALLINT':
      return { kind: 'int16' };
    case 'USMALLINT':
    case 'INTEGER':
    case 'INT':
      return { kind: 'int32' };
    case 'UINTEGER':
    case 'BIGINT':
      return { kind: 'int64' };
    case 'UBIGINT':
      return { kind: 'decimal', precision: 20, scale: 0 };
    case 'HUGEINT':
    case 'UHUGEINT':
    case 'VARINT':
    case 'BIGNUM':
    case 'DECIMAL':
    case 'NUMERIC':
      return { kind: 'decimal' };
    case 'FLOAT':
    case 'REAL':
      return { kind: 'float32' };
    case 'DOUBLE':
      return { kind: 'float64' };
    case 'UUID':
      return { kind: 'uuid' };
    case 'DATE':
      return { kind: 'date' };
    case 'TIME':
      return { kind: 'time' };
    case 'TIMESTAMP':
    case 'DATETIME':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
      return { kind: 'timestamp' };
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMPTZ':
      return { kind: 'timestamptz' };
    case 'INTERVAL':
      return { kind: 'interval' };
    case 'JSON':
      return { kind: 'json' };
    case 'BLOB':
    case 'BYTEA':
      return { kind: 'bytes' };
    default:
      return { kind: 'text' }; // VARCHAR, ENUM(...), BIT, TIME WITH TIME ZONE...
  }
}
