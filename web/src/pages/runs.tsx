import { api, type BulkExecution, type BulkSync, get } from '../api.ts';
import { bulkRunSummary } from '../bulk-runs.ts';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components.tsx';
import { activeStatuses } from '../format.ts';
import { Link } from '../router.tsx';
import { RunChart, type RunSummary, RunTimeline } from '../runs-view.tsx';

/** The latest runs of every bulk sync, newest first. */
async function loadRuns(): Promise<RunSummary[]> {
  const syncs = await get<BulkSync[]>('/bulk/syncs');
  const pages = await Promise.all(
    syncs.map(async (sync) => {
      const page = await api<{ data: BulkExecution[] }>('GET', `/bulk/syncs/${sync.id}/executions?limit=20`);
      return page.data.map((e) => bulkRunSummary(sync.id, e, sync.name));
    }),
  );
  const time = (r: RunSummary) => Date.parse(r.startedAt ?? r.createdAt ?? '') || 0;
  return pages.flat().sort((a, b) => time(b) - time(a));
}

export function RunsPage() {
  const { data, error, loading, reload } = useLoad(loadRuns, '', {
    ms: 3000,
    while: (runs) => runs.some((r) => activeStatuses.has(r.status ?? '')),
  });
  return (
    <>
      <PageHeader title="Runs" subtitle="Recent runs of every bulk sync, newest first." />
      <ErrorBox error={error} onRetry={reload} />
      {loading && !data && <Loading />}
      {data?.length === 0 && (
        <Empty title="No runs yet">
          Open a <Link to="/bulk-syncs">bulk sync</Link> and press “Start”, or give it a schedule.
        </Empty>
      )}
      {data && data.length > 0 && (
        <>
          <RunChart runs={data} />
          <RunTimeline runs={data} showSync />
        </>
      )}
    </>
  );
}
