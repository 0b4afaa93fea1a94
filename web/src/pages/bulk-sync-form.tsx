import { type FormEvent, useEffect, useState } from 'react';
import {
  type BulkSync,
  type Connection,
  get,
  messageOf,
  type Schedule,
  type SourceSchema,
  send,
} from '../api.ts';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components.tsx';
import { Link, navigate } from '../router.tsx';
import { ScheduleInput } from '../schedule-input.tsx';

export function BulkSyncFormPage() {
  const connections = useLoad(() => get<Connection[]>('/connections'), '');
  const [name, setName] = useState('');
  const [sourceId, setSourceId] = useState('');
  const [destinationId, setDestinationId] = useState('');
  const [mode, setMode] = useState('snapshot');
  const [destinationSchema, setDestinationSchema] = useState('');
  const [schedule, setSchedule] = useState<Schedule>({ frequency: 'manual' });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const tables = useLoad(
    () => (sourceId ? get<SourceSchema[]>(`/connections/${sourceId}/schemas`) : Promise.resolve([])),
    sourceId,
  );
  useEffect(() => setSelected(new Set(tables.data?.map((t) => t.id))), [tables.data]);

  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await send<BulkSync>('POST', '/bulk/syncs', {
        name: name.trim(),
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        mode,
        destination_configuration: destinationSchema.trim() ? { schema: destinationSchema.trim() } : {},
        schedule,
        schemas: [...selected],
      });
      navigate(`/bulk-syncs/${created.id}`);
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };

  const list = connections.data ?? [];
  return (
    <>
      <PageHeader title="New bulk sync" subtitle="Pick a source, a destination and the tables to copy." />
      <ErrorBox error={connections.error} onRetry={connections.reload} />
      {connections.loading && <Loading />}
      {connections.data && list.length === 0 && (
        <Empty title="No connections to sync">
          <Link to="/connections/new">Create a source and a destination connection</Link> first.
        </Empty>
      )}
      {list.length > 0 && (
        <form className="card form" onSubmit={(e) => void save(e)}>
          <label>
            Name
            <input
              name="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={200}
            />
          </label>
          <div className="row">
            <label>
              Source
              <select name="source" value={sourceId} onChange={(e) => setSourceId(e.target.value)} required>
                <option value="">Choose…</option>
                {list.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} ({c.type.name})
                  </option>
                ))}
              </select>
            </label>
            <label>
              Destination
              <select
                name="destination"
                value={destinationId}
                onChange={(e) => setDestinationId(e.target.value)}
                required
              >
                <option value="">Choose…</option>
                {list.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} ({c.type.name})
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="row">
            <label>
              Mode
              <select name="mode" value={mode} onChange={(e) => setMode(e.target.value)}>
                <option value="snapshot">Snapshot: replace each table every run</option>
                <option value="replicate">Replicate: merge new and changed rows</option>
              </select>
            </label>
            <label>
              Destination schema <span className="muted small">(optional)</span>
              <input
                name="destinationSchema"
                value={destinationSchema}
                onChange={(e) => setDestinationSchema(e.target.value)}
                placeholder="public"
              />
            </label>
          </div>
          <ScheduleInput value={schedule} onChange={setSchedule} />
          <fieldset>
            <legend>Tables</legend>
            {!sourceId && <p className="muted">Choose a source to see its tables.</p>}
            <ErrorBox error={tables.error && `The source's tables could not be read: ${tables.error}`} />
            {sourceId && tables.loading && <Loading />}
            {sourceId && tables.data?.length === 0 && (
              <p className="muted">The source has no tables. Create some there, then refresh its schemas.</p>
            )}
            <div className="checklist">
              {tables.data?.map((t) => (
                <label key={t.id} className="check">
                  <input
                    type="checkbox"
                    name="table"
                    value={t.id}
                    checked={selected.has(t.id)}
                    onChange={() => toggle(t.id)}
                  />
                  {t.id} <span className="muted small">{t.fields.length} fields</span>
                </label>
              ))}
            </div>
          </fieldset>
          <ErrorBox error={error} />
          <div className="actions">
            <button
              type="submit"
              className="primary"
              disabled={busy || !sourceId || !destinationId || selected.size === 0}
            >
              {busy ? 'Creating…' : 'Create bulk sync'}
            </button>
          </div>
        </form>
      )}
    </>
  );
}
