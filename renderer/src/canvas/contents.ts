/**
 * What each canvas node shows (its LayerData, StackData or EmptyData), kept
 * apart from React Flow's node objects. React Flow's nodes carry only where a
 * node is (position, size, parent, type, selection): an edit that changes what
 * nodes show but not where they are (a parameter typed, the chips after it)
 * leaves them as they were, so React Flow does no work at all, and only the
 * node components whose content changed re-render, each subscribed to its own
 * id. The layout that follows (sizes change with the text) moves nodes later,
 * off the keystroke's path.
 */
import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';

/** Equal plain data (what the projection makes: objects, arrays, strings, numbers, booleans, null). */
export function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameContent(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>, rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  if (ka.length !== Object.keys(rb).length) return false;
  for (const k of ka) if (!Object.hasOwn(rb, k) || !sameContent(ra[k], rb[k])) return false;
  return true;
}

export class NodeContents {
  private data = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly changed = new Set<string>();

  /**
   * Takes the content of every node drawn. Content equal to what a node shows
   * keeps that object (its component then does not re-render); the nodes whose
   * content changed are told on `flush()`. Safe to call while rendering: it
   * tells no one.
   */
  update(nodes: readonly { id: string; data: unknown }[]): void {
    const next = new Map<string, unknown>();
    for (const n of nodes) {
      const prev = this.data.get(n.id);
      if (prev !== undefined && sameContent(prev, n.data)) {
        next.set(n.id, prev);
      } else {
        next.set(n.id, n.data);
        if (prev !== undefined) this.changed.add(n.id);
      }
    }
    this.data = next;
  }

  /** Tells the components of the nodes whose content changed since the last flush. */
  flush(): void {
    if (!this.changed.size) return;
    const ids = [...this.changed];
    this.changed.clear();
    for (const id of ids) for (const f of this.listeners.get(id) ?? []) f();
  }

  get(id: string): unknown {
    return this.data.get(id);
  }

  subscribe(id: string, f: () => void): () => void {
    let s = this.listeners.get(id);
    if (!s) { s = new Set(); this.listeners.set(id, s); }
    s.add(f);
    return () => {
      const set = this.listeners.get(id);
      if (!set) return;
      set.delete(f);
      if (!set.size) this.listeners.delete(id);
    };
  }
}

export const ContentsContext = createContext<NodeContents | null>(null);

/** The current content of node `id` (React Flow's `data` for it where no canvas provides contents, as in tests). */
export function useNodeContent<T>(id: string, data: T): T {
  const contents = useContext(ContentsContext);
  const subscribe = useCallback((f: () => void) => (contents ? contents.subscribe(id, f) : () => {}), [contents, id]);
  const get = (): T => (contents?.get(id) as T | undefined) ?? data;
  return useSyncExternalStore(subscribe, get, get);
}
