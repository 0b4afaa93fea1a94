import { type BulkExecution, type BulkSync, get, type ModelExecution, type ModelSync } from '../api.ts';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components.tsx';
import { activeStatuses } from '../format.ts';
import { Link } from '../router.tsx';
import { bulkRunSummary, modelRunSummary } from '../run-summaries.ts';
import { RunChart, type RunSummary, RunTimeline } from '../runs-view.tsx';

const perSync = 20;

/** The latest runs of every bulk and model sync, newest first. */
async function loadRuns(): Promise<RunSummary[]> {
  const [bulkSyncs, modelSyncs] = await Promise.all([
    get<BulkSync[]>('/bulk/syncs'),
    get<ModelSync[]>('/syncs'),
  ]);
  const pages = await Promise.all([
    ...bulkSyncs.map(async (sync) => {
      const runs = await get<BulkExecution[]>(`/bulk/syncs/${sync.id}/executions?limit=${perSync}`);
      return runs.map((e) => bulkRunSummary(sync.id, e, sync.name));
    }),
    // Model executions come a page at a time, newest first.
    ...modelSyncs.map(async (sync) => {
      const runs = await get<ModelExecution[]>(`/syncs/${sync.id}/executions`);
      return runs.slice(0, perSync).map((e) => modelRunSummary(sync.id, e, sync.name));
    }),
  ]);
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
      <PageHeader title="Runs" subtitle="Recent runs of every bulk and model sync, newest first." />
      <ErrorBox error={error} onRetry={reload} />
      {loading && !data && <Loading />}
      {data?.length === 0 && (
        <Empty title="No runs yet">
          Open a <Link to="/bulk-syncs">bulk sync</Link> or a <Link to="/model-syncs">model sync</Link> and
          press “Start”, or give it a schedule.
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
