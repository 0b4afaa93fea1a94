import type { LogicalType } from '../../engine/bulk/contracts.ts';

/**
 * Portable type of a MySQL/MariaDB column from its `column_type` (`int(10) unsigned`, `tinyint(1)`,
 * `decimal(38,10)`, `datetime(6)`, `enum('a','b')`). The MySQL connector reports MariaDB's JSON columns
 * (LONGTEXT with a `json_valid` check) as `json`.
 */
export function mysqlLogicalType(columnType: string): LogicalType {
  const raw = columnType.trim().toLowerCase();
  const base = /^[a-z0-9_ ]+?(?=\(|\s|$)/.exec(raw)?.[0]?.trim() ?? raw;
  const unsigned = /\bunsigned\b/.test(raw);
  const args = /^[^(]*\(([^)]*)\)/.exec(raw)?.[1];
  const numbers = args?.split(',').map((part) => Number(part.trim())) ?? [];
  switch (base) {
    case 'tinyint':
      return numbers[0] === 1 ? { kind: 'boolean' } : { kind: 'int16' };
    case 'bool':
    case 'boolean':
      return { kind: 'boolean' };
    case 'smallint':
      return unsigned ? { kind: 'int32' } : { kind: 'int16' };
    case 'mediumint':
      return { kind: 'int32' };
    case 'int':
    case 'integer':
      return unsigned ? { kind: 'int64' } : { kind: 'int32' };
    case 'bigint':
      return unsigned ? { kind: 'decimal', precision: 20, scale: 0 } : { kind: 'int64' };
    case 'year':
      return { kind: 'int16' };
    case 'bit':
      return (numbers[0] ?? 1) === 1 ? { kind: 'boolean' } : { kind: 'int64' };
    case 'decimal':
    case 'dec':
    case 'numeric':
    case 'fixed': {
      const precision = Number.isFinite(numbers[0]) ? numbers[0]! : 10;
      const scale = Number.isFinite(numbers[1]) ? numbers[1]! : 0;
      return { kind: 'decimal', precision, scale };
    }
    case 'float':
      return { kind: 'float32' };
    case 'double':
    case 'double precision':
    case 'real':
      return { kind: 'float64' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time' };
    case 'datetime':
      return { kind: 'timestamp' };
    case 'timestamp':
      return { kind: 'timestamptz' };
    case 'json':
      return { kind: 'json' };
    case 'uuid':
      return { kind: 'uuid' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
    case 'geomcollection':
      return { kind: 'bytes' };
    default:
      return { kind: 'text' }; // char, varchar, *text, enum, set, inet4/6...
  }
}
