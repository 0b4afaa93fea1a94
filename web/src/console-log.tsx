import { useEffect, useRef, useState } from 'react';
import { type ConsoleEntry, get, messageOf } from './api.ts';

interface Page {
  entries: ConsoleEntry[];
  next_cursor?: string;
}

/**
 * The console log of a run: the newest lines first, then only lines after the last cursor, polled
 * while the run moves (`live`) and once more after it stops, so the final lines always arrive.
 */
export function ConsoleLog(props: { route: string; live: boolean }) {
  const [lines, setLines] = useState<ConsoleEntry[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [follow, setFollow] = useState(true);
  const cursor = useRef<string | undefined>(undefined);
  const box = useRef<HTMLDivElement>(null);
  const live = useRef(props.live);
  live.current = props.live;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finalRead = false;
    const read = async () => {
      try {
        if (cursor.current === undefined) {
          const page = await get<Page>(`${props.route}?limit=50`);
          if (stopped) return;
          cursor.current = page.next_cursor ?? page.entries[0]?.cursor;
          setLines([...page.entries].reverse());
        } else {
          const page = await get<Page>(`${props.route}?after=${encodeURIComponent(cursor.current)}&limit=50`);
          if (stopped) return;
          if (page.entries.length > 0) {
            cursor.current = page.next_cursor ?? page.entries.at(-1)!.cursor;
            setLines((old) => [...old, ...page.entries].slice(-2000));
          }
          // A full page means more are waiting: read on at once.
          if (page.entries.length === 50) {
            timer = setTimeout(read, 0);
            return;
          }
        }
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(messageOf(e));
      }
      if (stopped) return;
      if (live.current) timer = setTimeout(read, 1000);
      else if (!finalRead) {
        finalRead = true;
        timer = setTimeout(read, 500);
      }
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [props.route]);

  useEffect(() => {
    if (follow && box.current && lines.length > 0) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  return (
    <section className="console">
      <div className="console-bar">
        <span>Console log {props.live && <span className="badge tone-busy">live</span>}</span>
        <label className="check small">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow new
          lines
        </label>
      </div>
      {error && (
        <div className="error" role="alert">
          The console log could not be read: {error}
        </div>
      )}
      <div className="console-lines" ref={box} data-testid="console-log">
        {lines.length === 0 && <div className="muted">No log lines yet.</div>}
        {lines.map((line) => (
          <div key={line.cursor} className={`line level-${line.level}`}>
            <time>{new Date(line.timestamp).toISOString().slice(11, 23)}</time>
            <span className="level">{line.level}</span>
            {line.schema && <span className="schema">[{line.schema}]</span>}
            <span className="message">{line.message}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
