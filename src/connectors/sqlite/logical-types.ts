import type { LogicalType } from '../../engine/bulk/contracts.ts';

/**
 * Portable type of a SQLite column from its declared type. SQLite stores any value in any column, so
 * the declared type is a hint: a few well-known names (BOOLEAN, DATE, DATETIME/TIMESTAMP, JSON,
 * DECIMAL(p,s)) are honoured, the rest follows SQLite's affinity rules
 * (https://www.sqlite.org/datatype3.html#determination_of_column_affinity). A column without a declared
 * type (BLOB affinity) holds anything and travels as text.
 */
export function sqliteLogicalType(declared: string): LogicalType {
  const t = declared.trim().toLowerCase();
  const base = t.replace(/\(.*$/, '').trim();
  if (base === 'boolean' || base === 'bool') return { kind: 'boolean' };
  if (base === 'date') return { kind: 'date' };
  if (base === 'datetime' || base === 'timestamp') return { kind: 'timestamp' };
  if (base === 'json' || base === 'jsonb') return { kind: 'json' };
  if (base === 'decimal' || base === 'numeric') {
    const m = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(t);
    return m ? { kind: 'decimal', precision: Number(m[1]), scale: Number(m[2] ?? 0) } : { kind: 'decimal' };
  }
  // The affinity rules, in SQLite's order.
  if (t.includes('int')) return { kind: 'int64' };
  if (t.includes('char') || t.includes('clob') || t.includes('text')) return { kind: 'text' };
  if (t.includes('blob')) return { kind: 'bytes' };
  if (t === '') return { kind: 'text' };
  if (t.includes('real') || t.includes('floa') || t.includes('doub')) return { kind: 'float64' };
  return { kind: 'decimal' }; // NUMERIC affinity
}
