import type { Schedule } from './api.ts';

/** The schedules people pick most; anything else stays as the API has it. */
export function ScheduleInput(props: { value: Schedule; onChange: (s: Schedule) => void }) {
  const { value } = props;
  const frequency = value.frequency ?? 'manual';
  return (
    <div className="row">
      <label>
        Schedule
        <select
          name="frequency"
          value={frequency}
          onChange={(e) =>
            props.onChange(
              e.target.value === 'daily'
                ? { frequency: 'daily', hour: '0', minute: '0' }
                : { frequency: e.target.value },
            )
          }
        >
          <option value="manual">Manual (start it yourself)</option>
          <option value="continuous">Continuous</option>
          <option value="hourly">Hourly</option>
          <option value="daily">Daily</option>
          <option value="weekly">Weekly</option>
        </select>
      </label>
      {frequency === 'daily' && (
        <label>
          At (UTC)
          <input
            type="time"
            name="at"
            value={`${(value.hour ?? '0').padStart(2, '0')}:${(value.minute ?? '0').padStart(2, '0')}`}
            onChange={(e) => {
              const [h, m] = e.target.value.split(':');
              props.onChange({ frequency: 'daily', hour: String(Number(h)), minute: String(Number(m)) });
            }}
          />
        </label>
      )}
    </div>
  );
}
