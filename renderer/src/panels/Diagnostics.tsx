/**
 * Every trace error (and the last run's error) with its path and message;
 * a click selects the node and asks the canvas to focus it ('strata:focus').
 */
import type { ModelError } from '../../../engine/core/errors';
import { useStrata, useStrataStore } from './context';
import { EVENTS, dispatch } from './keyboard';
import { useRunState } from './runState';
import { traceIndex } from './traceIndex';

export function Diagnostics() {
  const store = useStrataStore();
  const trace = useStrata((s) => s.trace);
  const editError = useStrata((s) => s.editError);
  const runError = useRunState((s) => s.error);
  const idx = traceIndex(trace);
  const items: { e: ModelError; source: 'model' | 'run' }[] = trace.errors.map((e) => ({ e, source: 'model' }));
  // a run refused for a model error the trace already shows is not listed twice
  if (runError && !trace.errors.some((e) => e.code === runError.code && e.path === runError.path && e.message === runError.message)) {
    items.push({ e: runError, source: 'run' });
  }
  const nodeOf = (e: ModelError): string | undefined => {
    if (e.nodeId && idx.byId.has(e.nodeId)) return e.nodeId;
    if (e.path !== undefined && idx.byPath.has(e.path) && (e.path !== '' || e.kind)) return idx.byPath.get(e.path)!.trace.node.id;
    return undefined;
  };
  const focus = (e: ModelError) => {
    const id = nodeOf(e);
    if (!id) return;
    store.getState().select([id]);
    dispatch(EVENTS.focus, { id });
  };
  return (
    <section className="diagnostics" data-testid="diagnostics" aria-label="Diagnostics">
      <h4 className={items.length ? 'error-text' : ''}>
        Diagnostics ({items.length})
      </h4>
      {editError && <div className="edit-error muted">{editError}</div>}
      {items.length === 0 && <div className="muted ok">No errors: every edge has a known stack.</div>}
      <ul>
        {items.map(({ e, source }, i) => {
          const id = nodeOf(e);
          return (
            <li
              key={`${source}:${e.nodeId ?? ''}:${e.path}:${e.code}:${i}`}
              className={`diagnostic ${source}`}
              data-testid="diagnostic"
              data-code={e.code}
              data-path={e.path}
              data-node-id={id ?? ''}
              role={id ? 'button' : undefined}
              tabIndex={id ? 0 : undefined}
              onClick={() => focus(e)}
              onKeyDown={(ev) => { if (ev.key === 'Enter') focus(e); }}
              title={id ? 'Show this layer' : ''}
            >
              <span className="code">{source === 'run' ? `run · ${e.code}` : e.code}</span>
              <span className="path">{e.path || (e.kind ? 'root' : '')}</span>
              <div className="message">{e.message}</div>
              {e.fix && <div className="fix">{e.fix}</div>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
