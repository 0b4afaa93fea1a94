import { reportedTableProgress } from '../../src/domain/table-progress.ts';
import type { SchemaExecution } from './api.ts';
import { duration } from './format.ts';

/**
 * A table's progress in a run: a bar and percentage against the source's row estimate and, while it
 * runs, the time left at its rate so far. Without an estimate only the rows (their own column) tell.
 */
export function TableProgress(props: { table: SchemaExecution }) {
  const t = props.table;
  const { percent, etaSeconds } = reportedTableProgress(t);
  if (percent === undefined) return <span className="muted">–</span>;
  return (
    <div className="table-progress">
      <div
        className="progress"
        role="progressbar"
        aria-label={`${t.schema} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div style={{ width: `${percent}%` }} />
      </div>
      <span className="small" data-testid="table-progress">
        {percent}%{etaSeconds !== undefined && ` · ETA ${duration(etaSeconds * 1000)}`}
      </span>
    </div>
  );
}
