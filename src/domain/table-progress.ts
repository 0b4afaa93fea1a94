// How far a table of a bulk run is and when it should end, from what the API reports of it. Pure and
// import-free: the CLI and the web dashboard (its own build) both use it.

export interface TableProgress {
  /** 0–100, a whole number; absent without an estimate (unless the table completed: 100). */
  percent?: number;
  /** Seconds left at the table's rate; only while it runs, within its estimate, at a known rate. */
  etaSeconds?: number;
}

/**
 * A table's rows per second between its start and the moment its rows were counted (ISO times, both
 * the server's, so no clock skew); undefined until time has passed.
 */
export function rowsPerSecond(
  rows: number,
  startedAt: string | undefined,
  countedAt: string | undefined,
): number | undefined {
  if (!startedAt || !countedAt) return undefined;
  const ms = Date.parse(countedAt) - Date.parse(startedAt);
  return ms > 0 ? (rows * 1000) / ms : undefined;
}

/**
 * Percentage and ETA of a table against its row estimate. The estimate is approximate: once the rows
 * reach it the table shows 99% with no ETA until it completes. A completed table is 100% whatever the
 * estimate said; a table that stopped otherwise keeps its percentage but gets no ETA.
 */
export function tableProgress(table: {
  /** The table's status word: `completed` (or `completed_with_errors`) and `running` matter. */
  status: string;
  rows: number;
  estimate?: number;
  rowsPerSecond?: number;
}): TableProgress {
  if (table.status === 'completed' || table.status === 'completed_with_errors') return { percent: 100 };
  const { rows, estimate } = table;
  if (estimate === undefined || estimate < 0) return {};
  if (rows >= estimate) return { percent: 99 };
  const percent = Math.min(99, Math.floor((100 * rows) / estimate));
  const rate = table.rowsPerSecond;
  if (table.status !== 'running' || !rate || rate <= 0) return { percent };
  return { percent, etaSeconds: Math.ceil((estimate - rows) / rate) };
}

/** A table of a bulk run as the API reports it (a bulk schema execution), in the API's field names. */
export interface ReportedTable {
  status: string;
  record_count?: number;
  estimated_record_count?: number;
  started_at?: string;
  completed_at?: string;
  /** While the table runs, when its `record_count` was last counted. */
  updated_at?: string;
}

/** A reported table's rate (over its whole run once finished), percentage and ETA. */
export function reportedTableProgress(table: ReportedTable): TableProgress & { rowsPerSecond?: number } {
  const rows = table.record_count ?? 0;
  const rate = rowsPerSecond(rows, table.started_at, table.completed_at ?? table.updated_at);
  return {
    ...tableProgress({
      status: table.status,
      rows,
      estimate: table.estimated_record_count,
      rowsPerSecond: rate,
    }),
    ...(rate === undefined ? {} : { rowsPerSecond: rate }),
  };
}
