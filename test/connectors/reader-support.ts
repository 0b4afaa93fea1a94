/** Helpers of the bulk reader tests (test/connectors/*-reader.test.ts). */
import assert from 'node:assert/strict';
import type {
  ColumnSpec,
  LogicalType,
  ReadRequest,
  RowBatch,
  TableReader,
} from '../../src/engine/bulk/contracts.ts';

export const text: LogicalType = { kind: 'text' };

export function columns(names: string[]): ColumnSpec[] {
  return names.map((name) => ({ source: name, name, type: text, nullable: true }));
}

export function request(schemaId: string, names: string[], extra: Partial<ReadRequest> = {}): ReadRequest {
  return {
    schemaId,
    columns: columns(names),
    primaryKey: [],
    signal: new AbortController().signal,
    ...extra,
  };
}

export async function readAll(reader: TableReader, req: ReadRequest): Promise<RowBatch> {
  const rows: RowBatch = [];
  for await (const batch of reader.read(req)) rows.push(...batch);
  return rows;
}

/**
 * Incremental reads over a table whose cursor value is shared by many rows: starting from any position
 * (here: in the middle of the shared values) returns exactly the rows after it, and reading in two steps
 * (limit, then from the last row read) returns every row exactly once. Limited reads come in
 * (cursor, primary key) order; whole reads in any order. `cursorIndex`/`pkIndexes` are the positions
 * of the cursor and primary key columns in `req.columns`.
 */
export async function assertIncrementalSplits(
  reader: TableReader,
  req: ReadRequest,
  cursorIndex: number,
  pkIndexes: number[],
  middle: number,
): Promise<RowBatch> {
  const cursorField = req.incremental!.cursorField;
  const all = await readAll(reader, { ...req, limit: 1_000_000, incremental: { cursorField, after: null } });
  const unordered = await readAll(reader, { ...req, incremental: { cursorField, after: null } });
  const asSet = (rows: RowBatch) => rows.map((row) => JSON.stringify(row)).sort();
  assert.deepEqual(asSet(unordered), asSet(all), 'a whole read returns the same rows as a limited one');
  const position = (row: (string | null)[]) => ({
    value: row[cursorIndex]!,
    pk: pkIndexes.map((i) => row[i]!),
  });
  const after = await readAll(reader, {
    ...req,
    incremental: { cursorField, after: position(all[middle]!) },
  });
  assert.deepEqual(
    asSet(after),
    asSet(all.slice(middle + 1)),
    'rows after a position in the middle of equal cursor values',
  );
  const first = await readAll(reader, {
    ...req,
    limit: middle + 1,
    incremental: { cursorField, after: null },
  });
  assert.deepEqual(first, all.slice(0, middle + 1), 'a limited read is the first rows in cursor order');
  const rest = await readAll(reader, {
    ...req,
    incremental: { cursorField, after: position(first.at(-1)!) },
  });
  const keys = [...first, ...rest].map((row) => JSON.stringify(pkIndexes.map((i) => row[i])));
  assert.equal(new Set(keys).size, keys.length, 'no row read twice');
  assert.deepEqual(asSet([...first, ...rest]), asSet(all), 'two steps read every row once');
  return all;
}

/** Reads a large table, aborting after the first batch: `read` must throw the AbortError. */
export async function assertAbortsAfterFirstBatch(reader: TableReader, req: Omit<ReadRequest, 'signal'>) {
  const controller = new AbortController();
  let batches = 0;
  await assert.rejects(
    (async () => {
      for await (const batch of reader.read({ ...req, signal: controller.signal })) {
        assert.ok(batch.length > 0);
        batches++;
        if (batches === 1) controller.abort();
      }
    })(),
    (error: Error) => error.name === 'AbortError',
  );
  assert.equal(batches, 1);
}

/** Reads everything, keeping only a count; returns the largest RSS growth seen (bytes). */
export async function rssGrowthOfRead(
  reader: TableReader,
  req: ReadRequest,
): Promise<{ rows: number; growth: number }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let rows = 0;
  for await (const batch of reader.read(req)) {
    rows += batch.length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  return { rows, growth: peak - before };
}

/**
 * Each filter function selects exactly the expected rows of the `filtered` table
 * (id, name, score, active) = (1 alpha 10 t) (2 beta% 20 f) (3 NULL 30 t) (4 gamma NULL f) (5 it's 50 t): comparisons cast
 * their text values to the column type, Inequality keeps NULLs, LIKE wildcards in values are literal.
 */
export async function assertFilters(reader: TableReader, schemaId: string): Promise<void> {
  const cases: [ReadRequest['filters'], number[]][] = [
    [[{ field: 'name', fn: 'Equality', value: 'alpha' }], [1]],
    [[{ field: 'name', fn: 'Inequality', value: 'alpha' }], [2, 3, 4, 5]],
    [[{ field: 'name', fn: 'IsNull' }], [3]],
    [[{ field: 'score', fn: 'IsNotNull' }], [1, 2, 3, 5]],
    [[{ field: 'score', fn: 'GreaterThan', value: '20' }], [3, 5]],
    [[{ field: 'score', fn: 'LessThanEqual', value: '20' }], [1, 2]],
    [[{ field: 'score', fn: 'Between', from: '10', to: '30' }], [1, 2, 3]],
    [[{ field: 'id', fn: 'Equality', value: '2' }], [2]],
    [[{ field: 'name', fn: 'StringContains', value: '%' }], [2]],
    [[{ field: 'name', fn: 'StringStartsWith', value: 'g' }], [4]],
    [[{ field: 'name', fn: 'StringEndsWith', value: "'s" }], [5]],
    [[{ field: 'name', fn: 'StringOneOf', values: ['alpha', "it's"] }], [1, 5]],
    [[{ field: 'active', fn: 'True' }], [1, 3, 5]],
    [[{ field: 'active', fn: 'False' }], [2, 4]],
    [
      [
        { field: 'active', fn: 'True' },
        { field: 'score', fn: 'GreaterThan', value: '10' },
      ],
      [3, 5],
    ],
  ];
  for (const [filters, expected] of cases) {
    const rows = await readAll(reader, request(schemaId, ['id'], { filters }));
    const ids = rows.map((row) => Number(row[0])).sort((a, b) => a - b);
    assert.deepEqual(ids, expected, JSON.stringify(filters));
  }
}
