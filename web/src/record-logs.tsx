import { useState } from 'react';
import { get, type Job, type RecordLogFile, send } from './api.ts';
import { ActionButton, Empty, ErrorBox, useLoad } from './components.tsx';
import { count, when } from './format.ts';

/** Bulk runs spell the expiry `Expires` (Polytomic's field), model runs `expires`. */
interface RecordLogIndex {
  files: RecordLogFile[];
  Expires?: string;
  expires?: string;
}

/**
 * The record log files of a run with their signed download links, and (bulk runs) an export of every
 * log as one archive through an asynchronous job.
 */
export function RecordLogs(props: { route: string; finished: boolean; exportable?: boolean }) {
  const files = useLoad(() => get<RecordLogIndex>(`${props.route}/logs`), `${props.route}:${props.finished}`);
  const [exported, setExported] = useState<Job | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  const exportAll = async () => {
    setError(undefined);
    setExported(undefined);
    const started = await send<{ url: string; job_id: string }>('POST', `${props.route}/logs/export`);
    for (let i = 0; i < 300; i++) {
      const job = await get<Job>(started.url.replace(/^\/api/, ''));
      if (job.status === 'done' || job.status === 'failed') {
        if (job.status === 'failed') throw new Error(job.error ?? 'the export failed');
        setExported(job);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('the export is taking long: try again in a minute');
  };

  return (
    <section>
      <div className="section-title">
        <h2>Record logs</h2>
        {props.exportable && (
          <ActionButton
            label="Export all logs"
            busyLabel="Exporting…"
            action={exportAll}
            onError={setError}
          />
        )}
      </div>
      <ErrorBox error={error ?? files.error} />
      {exported?.result?.url && (
        <div className="notice ok" role="status">
          The archive is ready: <a href={exported.result.url}>{exported.result.filename ?? 'download'}</a>
        </div>
      )}
      {files.data?.files.length === 0 && (
        <Empty title="No record logs">
          {props.finished
            ? 'This run wrote no record logs (no rejected or warned rows).'
            : 'Record logs appear here as the run writes them.'}
        </Empty>
      )}
      {files.data && files.data.files.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>File</th>
              <th>Type</th>
              <th>Table</th>
              <th>Records</th>
              <th>Size</th>
            </tr>
          </thead>
          <tbody>
            {files.data.files.map((f) => (
              <tr key={f.filename}>
                <td>
                  <a href={f.url} download={f.filename}>
                    {f.filename}
                  </a>
                </td>
                <td>{f.type}</td>
                <td>{f.schema ?? '–'}</td>
                <td>{count(f.records)}</td>
                <td>{f.bytes === undefined ? '–' : `${count(Math.ceil(f.bytes / 1024))} KiB`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {files.data && files.data.files.length > 0 && (
        <p className="muted small">Download links expire {when(files.data.Expires ?? files.data.expires)}.</p>
      )}
    </section>
  );
}
