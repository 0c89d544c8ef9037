/** The search-and-insert box (double-click on the canvas, or Ctrl+K): type, pick a layer, Enter. */
import { useMemo, useState, type KeyboardEvent } from 'react';
import { allKinds } from '../../../engine/layers/registry';

const KINDS = allKinds().filter((d) => !d.internal);

/** Kinds matching `q`: names starting with it first, then containing it, then summaries containing it. */
export function searchKinds(q: string, limit = 12): { kind: string; module: string; summary: string }[] {
  const s = q.trim().toLowerCase();
  const rank = (k: string, summary: string): number => {
    const n = k.toLowerCase();
    if (!s) return 0;
    if (n === s) return 0;
    if (n.startsWith(s)) return 1;
    if (n.includes(s)) return 2;
    if (summary.toLowerCase().includes(s)) return 3;
    return -1;
  };
  return KINDS.map((d) => ({ d, r: rank(d.kind, d.summary) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.d.kind.localeCompare(b.d.kind))
    .slice(0, limit)
    .map(({ d }) => ({ kind: d.kind, module: d.module, summary: d.summary }));
}

export function QuickInsert({ onPick, onClose, where }: { onPick(kind: string): void; onClose(): void; where: string }): React.ReactElement {
  const [q, setQ] = useState('');
  const [i, setI] = useState(0);
  const hits = useMemo(() => searchKinds(q), [q]);
  const at = Math.min(i, Math.max(0, hits.length - 1));
  const onKey = (e: KeyboardEvent): void => {
    e.stopPropagation();
    if (e.key === 'Escape') { e.preventDefault(); onClose(); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); setI(Math.min(at + 1, hits.length - 1)); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setI(Math.max(at - 1, 0)); }
    else if (e.key === 'Enter') { e.preventDefault(); if (hits[at]) onPick(hits[at].kind); }
  };
  return (
    <div className="strata-quick" data-testid="quick-insert" onMouseDown={(e) => e.stopPropagation()} onDoubleClick={(e) => e.stopPropagation()}>
      <input autoFocus className="strata-quick-input" data-testid="quick-insert-search" placeholder={`Insert a layer ${where}…`} value={q}
        onChange={(e) => { setQ(e.target.value); setI(0); }} onKeyDown={onKey} onBlur={onClose} spellCheck={false} />
      <ul className="strata-quick-list" role="listbox">
        {hits.map((h, k) => (
          <li key={h.kind} role="option" aria-selected={k === at} className={k === at ? 'is-active' : ''} data-testid={`quick-insert-item-${h.kind}`}
            onMouseDown={(e) => { e.preventDefault(); onPick(h.kind); }} onMouseEnter={() => setI(k)}>
            <span className="strata-quick-kind">{h.kind}</span>
            <span className="strata-quick-module">{h.module}</span>
            <span className="strata-quick-summary">{h.summary}</span>
          </li>
        ))}
        {hits.length === 0 && <li className="strata-quick-none">no layer matches “{q}”</li>}
      </ul>
    </div>
  );
}
