/** In-app dialogs: a file path (the browser has no dialog that yields one) and "discard changes?". */
import { useEffect, useRef, useState } from 'react';
import { type ConfirmRequest, type PathRequest, useApp } from './context';

function PathDialog({ req }: { req: PathRequest }) {
  const [path, setPath] = useState(req.initial);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => { ref.current?.focus(); ref.current?.select(); }, []);
  const ok = () => { if (path.trim()) req.resolve(path.trim()); };
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) req.resolve(null); }}>
      <div className="dialog" role="dialog" aria-modal="true" aria-label={req.title} data-testid="path-dialog">
        <h3>{req.title}</h3>
        <input
          ref={ref}
          type="text"
          data-testid="path-input"
          value={path}
          spellCheck={false}
          placeholder="/path/to/model.strata.json"
          onChange={(e) => setPath(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') ok();
            if (e.key === 'Escape') req.resolve(null);
          }}
        />
        {req.suggestions.length > 0 && (
          <ul className="suggestions">
            {req.suggestions.map((s) => (
              <li key={s}><button type="button" className="link" onClick={() => setPath(s)} onDoubleClick={() => req.resolve(s)}>{s}</button></li>
            ))}
          </ul>
        )}
        <div className="button-row right">
          <button type="button" onClick={() => req.resolve(null)} data-testid="path-cancel">Cancel</button>
          <button type="button" className="primary" onClick={ok} disabled={!path.trim()} data-testid="path-ok">{req.action}</button>
        </div>
      </div>
    </div>
  );
}

function ConfirmDialog({ req }: { req: ConfirmRequest }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => { ref.current?.focus(); }, []);
  return (
    <div className="dialog-backdrop">
      <div
        className="dialog"
        role="alertdialog"
        aria-modal="true"
        data-testid="confirm-dialog"
        onKeyDown={(e) => { if (e.key === 'Escape') req.resolve(false); }}
      >
        <p>{req.message}</p>
        <div className="button-row right">
          <button type="button" ref={ref} onClick={() => req.resolve(false)} data-testid="confirm-cancel">Cancel</button>
          <button type="button" className="danger" onClick={() => req.resolve(true)} data-testid="confirm-ok">{req.action}</button>
        </div>
      </div>
    </div>
  );
}

export function Dialogs() {
  const path = useApp((s) => s.pathRequest);
  const confirm = useApp((s) => s.confirmRequest);
  return (
    <>
      {path && <PathDialog req={path} />}
      {confirm && <ConfirmDialog req={confirm} />}
    </>
  );
}
