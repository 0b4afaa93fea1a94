import type { LogicalType } from '../../engine/bulk/contracts.ts';

/** `numeric(38,10)` → [38, 10]; `numeric(12)` → [12, 0]; `numeric` → []. */
export function precisionScale(type: string): [number?, number?] {
  const m = /\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)/.exec(type);
  if (!m) return [];
  return [Number(m[1]), m[2] === undefined ? 0 : Number(m[2])];
}

const byTypname: Record<string, LogicalType> = {
  bool: { kind: 'boolean' },
  int2: { kind: 'int16' },
  int4: { kind: 'int32' },
  int8: { kind: 'int64' },
  oid: { kind: 'int64' },
  float4: { kind: 'float32' },
  float8: { kind: 'float64' },
  uuid: { kind: 'uuid' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp' },
  timestamptz: { kind: 'timestamptz' },
  interval: { kind: 'interval' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  bytea: { kind: 'bytes' },
};

/**
 * Portable type of a PostgreSQL column. `typname` is the base type's name (a domain's base type),
 * `category` its `typcategory` and `baseType` its `format_type` with the column's modifier
 * (`numeric(38,10)`). Arrays, enums, ranges, `money` (locale-formatted text), `timetz` and every
 * other type travel as text.
 */
export function postgresLogicalType(typname: string, category: string, baseType: string): LogicalType {
  if (category === 'A') return { kind: 'text' };
  if (typname === 'numeric') {
    const [precision, scale] = precisionScale(baseType);
    return precision === undefined ? { kind: 'decimal' } : { kind: 'decimal', precision, scale: scale ?? 0 };
  }
  return byTypname[typname] ?? { kind: 'text' };
}
