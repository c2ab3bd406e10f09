// Preload (sandboxed, so CommonJS and no imports but 'electron'): exposes exactly one API,
// window.bitlens = { request, onEvent }. Requests go through ipcRenderer.invoke (validated in the
// main process); events (token streams, inspector frames) arrive on a MessagePort the main
// process transfers once the page has loaded. Channel names mirror contract/wire.ts.
import { contextBridge, ipcRenderer } from 'electron';

const REQUEST_CHANNEL = 'bitlens:request';
const PORT_CHANNEL = 'bitlens:events-port';

type Listener = (name: string, payload: unknown) => void;
const listeners = new Set<Listener>();

ipcRenderer.on(PORT_CHANNEL, (event) => {
  const port = event.ports[0];
  if (!port) return;
  port.onmessage = (message: MessageEvent) => {
    const data = message.data as { name?: unknown; payload?: unknown } | null;
    if (!data || typeof data.name !== 'string') return;
    for (const listener of listeners) listener(data.name, data.payload);
  };
  port.start();
});

contextBridge.exposeInMainWorld('bitlens', {
  request: (name: string, params: unknown) => ipcRenderer.invoke(REQUEST_CHANNEL, { name, params }),
  onEvent: (listener: Listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
});
