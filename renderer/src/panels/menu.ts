/**
 * The desktop app's native menus: electron/main.ts dispatches a cancelable
 * `strata:menu` event with `detail.command`; handled here (and the event
 * cancelled, so main does not fall back to sending keys).
 */
import type { StoreApi } from 'zustand/vanilla';
import type { ExportRequest, HostApi } from '../../../engine/host/api';
import type { StrataState } from '../state/store';
import { EVENTS, dispatch } from './keyboard';
import { exportModel, newDocument, openDocument, openExample, saveDocument, saveDocumentAs } from './files';

export type MenuCommand =
  | { command: 'new' } | { command: 'open' } | { command: 'save' } | { command: 'saveAs' }
  | { command: 'openRecent'; path: string } | { command: 'undo' } | { command: 'redo' } | { command: 'fit' }
  | { command: 'example'; name: string } | { command: 'export'; format: ExportRequest['format'] };

export function runMenuCommand(store: StoreApi<StrataState>, host: HostApi, cmd: MenuCommand): boolean {
  switch (cmd.command) {
    case 'new': void newDocument(store); return true;
    case 'open': void openDocument(store, host); return true;
    case 'openRecent': void openDocument(store, host, cmd.path); return true;
    case 'save': void saveDocument(store, host); return true;
    case 'saveAs': void saveDocumentAs(store, host); return true;
    case 'undo': store.getState().undo(); return true;
    case 'redo': store.getState().redo(); return true;
    case 'fit': dispatch(EVENTS.fit); return true;
    case 'example': void openExample(store, host, cmd.name); return true;
    case 'export': void exportModel(store, host, cmd.format); return true;
    default: return false;
  }
}

export function installMenu(store: StoreApi<StrataState>, host: HostApi): () => void {
  const on = (e: Event): void => {
    const cmd = (e as CustomEvent<MenuCommand>).detail;
    if (cmd && typeof cmd === 'object' && runMenuCommand(store, host, cmd)) e.preventDefault();
  };
  window.addEventListener('strata:menu', on);
  return () => window.removeEventListener('strata:menu', on);
}
