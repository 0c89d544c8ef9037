/**
 * What every panel reads: the document store (THE store, renderer/src/state)
 * and the host, handed down through React context; plus the app's own small
 * state (host info, examples, recent files, status line, dialogs).
 */
import { createContext, useContext } from 'react';
import type { StoreApi } from 'zustand/vanilla';
import { create } from 'zustand';
import { useStore } from 'zustand';
import type { ExampleInfo, HostApi } from '../../../engine/host/api';
import type { StrataState } from '../state/store';

export const StoreContext = createContext<StoreApi<StrataState> | null>(null);
export const HostContext = createContext<HostApi | null>(null);

export function useStrataStore(): StoreApi<StrataState> {
  const s = useContext(StoreContext);
  if (!s) throw new Error('StoreContext is not provided');
  return s;
}

export function useHost(): HostApi {
  const h = useContext(HostContext);
  if (!h) throw new Error('HostContext is not provided');
  return h;
}

/** A selector on the document store (re-renders when the selected value changes). */
export function useStrata<T>(selector: (s: StrataState) => T): T {
  return useStore(useStrataStore(), selector);
}

export interface PathRequest {
  title: string;
  /** the button's label */
  action: string;
  initial: string;
  /** paths to offer (recent files) */
  suggestions: string[];
  resolve(path: string | null): void;
}

export interface ConfirmRequest {
  message: string;
  action: string;
  resolve(ok: boolean): void;
}

export interface AppState {
  desktop: boolean;
  version: string;
  providers: string[];
  examples: ExampleInfo[];
  recent: string[];
  /** one line at the right of the toolbar: what just happened */
  status: { text: string; kind: 'info' | 'error' } | null;
  pathRequest: PathRequest | null;
  confirmRequest: ConfirmRequest | null;
  /** the bottom-right pane's tab */
  sideTab: 'run' | 'tensor' | 'train';
}

export const useApp = create<AppState>()(() => ({
  desktop: false,
  version: '',
  providers: ['cpu'],
  examples: [],
  recent: [],
  status: null,
  pathRequest: null,
  confirmRequest: null,
  sideTab: 'run',
}));

let statusTimer: ReturnType<typeof setTimeout> | undefined;

export function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  useApp.setState({ status: { text, kind } });
  clearTimeout(statusTimer);
  if (kind === 'info') statusTimer = setTimeout(() => useApp.setState({ status: null }), 6000);
}

/** Asks for a file path in the app (the browser has no file dialog that yields a path). */
export function askPath(title: string, action: string, initial: string, suggestions: string[] = []): Promise<string | null> {
  return new Promise((resolve) => {
    useApp.setState({
      pathRequest: {
        title, action, initial, suggestions,
        resolve: (p) => { useApp.setState({ pathRequest: null }); resolve(p); },
      },
    });
  });
}

export function askConfirm(message: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    useApp.setState({
      confirmRequest: {
        message, action,
        resolve: (ok) => { useApp.setState({ confirmRequest: null }); resolve(ok); },
      },
    });
  });
}
