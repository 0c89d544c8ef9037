/**
 * The palette: every catalog kind (internal helpers hidden) by spec module,
 * with search. Drag an entry onto the canvas (dataTransfer
 * 'application/x-strata-kind'), or click / press Enter to insert it at the
 * selection.
 */
import { memo, useMemo, useState } from 'react';
import { type LayerDef, MODULES, REQUIRED } from '../../../engine/layers/def';
import { allKinds } from '../../../engine/layers/registry';
import { pyParam } from '../../../engine/tracecode/print';
import { insertKind } from './actions';
import { useStrataStore } from './context';

export const KIND_MIME = 'application/x-strata-kind';

/** `Dense(n_units, kernel_initializer=…, use_bias=True)`: the Python signature with defaults. */
export function signatureOf(def: LayerDef): string {
  const parts = def.args.map((a) => {
    if (a.arg === 'layers') return `*${a.name}`;
    if (a.arg === 'slot') return a.optional ? `${a.name}=None` : a.name;
    if (a.default === REQUIRED) return a.name;
    return `${a.name}=${pyParam(a, a.default)}`;
  });
  const name = def.pyName ?? `tl.${def.kind}`;
  return `${name}(${parts.join(', ')})`;
}

const MODULE_TITLES: Record<string, string> = {
  activation_fns: 'activation functions',
  efficient_attention: 'efficient attention',
  position_encodings: 'position encodings',
};

function paletteKinds(): { module: string; defs: LayerDef[] }[] {
  const byModule = new Map<string, LayerDef[]>();
  for (const d of allKinds()) {
    if (d.internal) continue;
    const list = byModule.get(d.module) ?? [];
    list.push(d);
    byModule.set(d.module, list);
  }
  return MODULES.filter((m) => byModule.has(m)).map((m) => ({ module: m, defs: byModule.get(m)! }));
}

const Item = memo(function Item({ def }: { def: LayerDef }) {
  const store = useStrataStore();
  const tip = `${def.kind}: ${def.summary}\n\n${signatureOf(def)}`;
  return (
    <div
      className="palette-item"
      role="button"
      tabIndex={0}
      draggable
      data-testid={`palette-item-${def.kind}`}
      data-kind={def.kind}
      title={tip}
      onDragStart={(e) => {
        e.dataTransfer.setData(KIND_MIME, def.kind);
        e.dataTransfer.setData('text/plain', def.kind);
        e.dataTransfer.effectAllowed = 'copyMove';
      }}
      onClick={() => insertKind(store, def.kind)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          insertKind(store, def.kind);
        }
      }}
    >
      {def.kind}
    </div>
  );
});

export function Palette() {
  const groups = useMemo(paletteKinds, []);
  const [query, setQuery] = useState('');
  const [closed, setClosed] = useState<Record<string, boolean>>({});
  const q = query.trim().toLowerCase();
  const shown = useMemo(() => {
    if (!q) return groups;
    // names first; then entries whose summary mentions the words
    return groups
      .map((g) => ({
        module: g.module,
        defs: [
          ...g.defs.filter((d) => d.kind.toLowerCase().includes(q)),
          ...g.defs.filter((d) => !d.kind.toLowerCase().includes(q) && q.length > 2 && d.summary.toLowerCase().includes(q)),
        ],
      }))
      .filter((g) => g.defs.length > 0);
  }, [groups, q]);
  const count = shown.reduce((n, g) => n + g.defs.length, 0);
  return (
    <aside className="palette" data-testid="palette" aria-label="Layer palette">
      <input
        className="palette-search"
        data-testid="palette-search"
        type="search"
        placeholder="Search layers…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setQuery('');
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            (e.currentTarget.parentElement?.querySelector('.palette-item') as HTMLElement | null)?.focus();
          }
        }}
      />
      <div className="palette-list">
        {count === 0 && <div className="muted pad">No layer matches “{query}”.</div>}
        {shown.map((g) => {
          const isClosed = !q && closed[g.module];
          return (
            <section key={g.module} className="palette-group" data-module={g.module}>
              <button
                type="button"
                className="palette-group-title"
                aria-expanded={!isClosed}
                onClick={() => setClosed((c) => ({ ...c, [g.module]: !c[g.module] }))}
              >
                <span className="caret">{isClosed ? '▸' : '▾'}</span>
                {MODULE_TITLES[g.module] ?? g.module.replace(/_/g, ' ')}
                <span className="count">{g.defs.length}</span>
              </button>
              {!isClosed && g.defs.map((d) => <Item key={d.kind} def={d} />)}
            </section>
          );
        })}
      </div>
    </aside>
  );
}
