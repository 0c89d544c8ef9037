/**
 * The renderer's entry: the host, the store with the first document
 * (`?example=<name>`, else the recovery file of a session that did not save,
 * else the TransformerLM example), and the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { StoreApi } from 'zustand/vanilla';
import { App } from './App';
import { createHost } from './host';
import { HostContext, StoreContext, setStatus } from './panels/context';
import { initialDocument } from './panels/files';
import { type StrataState, createStrataStore } from './state/store';
import './app.css';

declare global {
  interface Window {
    /** the document store, for tests and the devtools console */
    __strataStore?: StoreApi<StrataState>;
  }
}

async function main(): Promise<void> {
  const host = createHost();
  const { doc, recovered, note } = await initialDocument(host, location.search);
  const store = createStrataStore(doc);
  if (recovered) store.setState({ dirty: true });
  window.__strataStore = store;
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <HostContext.Provider value={host}>
        <StoreContext.Provider value={store}>
          <App store={store} host={host} />
        </StoreContext.Provider>
      </HostContext.Provider>
    </StrictMode>,
  );
  if (note) setStatus(note, recovered ? 'info' : 'error');
}

void main();
