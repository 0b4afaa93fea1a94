import { StatusBadge, toneOf } from './components.tsx';
import { count, duration, durationMs, when } from './format.ts';
import { Link } from './router.tsx';

/** One run of any sync, as the timeline and the chart draw it. */
export interface RunSummary {
  id: string;
  syncName?: string;
  status: string | undefined;
  type?: string;
  createdAt?: string;
  startedAt?: string;
  completedAt?: string;
  rows: number | undefined;
  errors: number | undefined;
  message?: string;
  href?: string;
}

export function RunTimeline(props: { runs: RunSummary[]; showSync?: boolean }) {
  return (
    <ol className="timeline">
      {props.runs.map((run) => (
        <li key={run.id} className={`tone-${toneOf(run.status)}`} data-run={run.id}>
          <div className="when">{when(run.startedAt ?? run.createdAt)}</div>
          <div className="what">
            <StatusBadge status={run.status} />
            {props.showSync && run.syncName && <strong>{run.syncName}</strong>}
            {run.type && <span className="muted small">{run.type}</span>}
            {run.message && <span className="small muted">{run.message}</span>}
          </div>
          <div className="numbers">
            <span title="duration">{duration(durationMs(run.startedAt, run.completedAt))}</span>
            <span title="rows">{count(run.rows)} rows</span>
            <span title="errors" className={run.errors ? 'bad-text' : 'muted'}>
              {count(run.errors)} errors
            </span>
          </div>
          {run.href && (
            <Link to={run.href} className="open">
              Open
            </Link>
          )}
        </li>
      ))}
    </ol>
  );
}

const chartColors: Record<string, string> = {
  ok: '#2e7d32',
  busy: '#1565c0',
  wait: '#6d7a88',
  warn: '#ef8f00',
  bad: '#c62828',
  muted: '#9aa5b1',
};

/** Rows moved (bars, coloured by status) and run duration (line) per run, oldest on the left. */
export function RunChart(props: { runs: RunSummary[] }) {
  const runs = [...props.runs]
    .filter((r) => r.startedAt)
    .sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
  if (runs.length === 0) return null;
  const width = 720;
  const height = 200;
  const pad = { left: 56, right: 56, top: 12, bottom: 28 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const maxRows = Math.max(1, ...runs.map((r) => r.rows ?? 0));
  const durations = runs.map((r) => durationMs(r.startedAt, r.completedAt) ?? 0);
  const maxMs = Math.max(1, ...durations);
  const slot = innerW / runs.length;
  const barW = Math.max(2, Math.min(32, slot * 0.6));
  const x = (i: number) => pad.left + slot * i + slot / 2;
  const yRows = (n: number) => pad.top + innerH - (n / maxRows) * innerH;
  const yMs = (ms: number) => pad.top + innerH - (ms / maxMs) * innerH;
  const line = durations.map((ms, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${yMs(ms).toFixed(1)}`);
  const first = runs[0]!.startedAt!;
  const last = runs.at(-1)!.startedAt!;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Rows moved and duration per run">
        <line
          x1={pad.left}
          x2={width - pad.right}
          y1={pad.top + innerH}
          y2={pad.top + innerH}
          stroke="#c8d0d9"
        />
        <text x={pad.left - 6} y={pad.top + 8} textAnchor="end" className="axis">
          {count(maxRows)}
        </text>
        <text x={pad.left - 6} y={pad.top + innerH} textAnchor="end" className="axis">
          0
        </text>
        <text x={width - pad.right + 6} y={pad.top + 8} className="axis">
          {duration(maxMs)}
        </text>
        {runs.map((run, i) => (
          <rect
            key={run.id}
            x={x(i) - barW / 2}
            y={yRows(run.rows ?? 0)}
            width={barW}
            height={pad.top + innerH - yRows(run.rows ?? 0)}
            fill={chartColors[toneOf(run.status)]}
            opacity={0.85}
          >
            <title>
              {`${when(run.startedAt)}: ${count(run.rows)} rows, ${duration(durations[i])}, ${run.status ?? ''}`}
            </title>
          </rect>
        ))}
        <path d={line.join(' ')} fill="none" stroke="#37474f" strokeWidth={1.5} />
        {durations.map((ms, i) => (
          <circle key={runs[i]!.id} cx={x(i)} cy={yMs(ms)} r={2.5} fill="#37474f" />
        ))}
        <text x={pad.left} y={height - 8} className="axis">
          {when(first)}
        </text>
        <text x={width - pad.right} y={height - 8} textAnchor="end" className="axis">
          {when(last)}
        </text>
      </svg>
      <figcaption className="muted small">
        Bars: rows moved per run (colour = status). Line: run duration. {runs.length} runs.
      </figcaption>
    </figure>
  );
}
