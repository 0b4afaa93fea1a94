/**
 * How a PostgreSQL target's state hashes a record: over the record's text as PostgreSQL prints a row
 * (`row(v1, v2, ...)::text`), which the source computes from the typed values and the target from
 * the staged text alike, so that either side can hash and the two agree.
 *
 * - `hash64`: `hashtextextended(text, 0)`, 64 bits (PostgreSQL's hash partitioning function, stable
 *   across versions). The source of a first run hashes a million records in ~0.1 s where md5 took
 *   ~0.7 s, and the comparison of later runs hashes the whole model in the source. A changed record
 *   is taken for unchanged with a chance of 2^-64.
 * - `md5`: a `uuid`, the hash of state tables created by earlier versions. They keep it: their hashes
 *   cannot be converted, and treating them as unknown would make an append sync send everything again.
 */
export type RecordHash = 'hash64' | 'md5';

/** The column type of a state's hashes. */
export const recordHashType: Record<RecordHash, string> = { hash64: 'bigint', md5: 'uuid' };

/** SQL of the hash of a record of `values` (SQL expressions). */
export function recordHashSql(hash: RecordHash, values: string[]): string {
  const text = `row(${values.join(', ')})::text`;
  return hash === 'md5' ? `md5(${text})::uuid` : `hashtextextended(${text}, 0)`;
}

/** The hash of a state table whose `hash` column has this type. */
export const recordHashOfType = (type: string): RecordHash => (type === 'uuid' ? 'md5' : 'hash64');
