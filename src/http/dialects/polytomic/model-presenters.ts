import type { ModelPreview } from '../../../services/models.ts';
import type { ModelFieldInfo, ModelRow } from '../../../store/schema.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

export const modelFieldOut = (identifier: string | null) => (f: ModelFieldInfo) => ({
  id: f.name,
  name: f.name,
  label: f.name,
  type: f.type,
  remote_type: f.remote_type,
  unique: f.name === identifier,
  user_added: false,
});

export const modelOut = (m: ModelRow | (ModelPreview & { id?: undefined })) => {
  const saved = 'createdAt' in m ? m : undefined;
  return {
    id: m.id,
    name: m.name,
    type: m.configuration.table ? 'table' : 'query',
    organization_id: m.organizationId,
    connection_id: m.connectionId,
    configuration: m.configuration,
    fields: m.fields.map(modelFieldOut(m.identifier)),
    identifier: m.identifier ?? undefined,
    labels: (saved?.labels ?? []).map((name) => ({ name })),
    version: saved?.version,
    created_at: iso(saved?.createdAt),
    updated_at: iso(saved?.updatedAt),
  };
};
