// The one entry point the UI uses to reach its host: the Electron preload bridge when the app
// runs in Electron, otherwise the browser host's WebSocket on the page's own origin.
import { WS_PATH, type BitLensHost, type PreloadBridge } from '../../contract/index.js';
import { ElectronHost } from './electron-host.js';
import { WebSocketHost } from './websocket-host.js';

export type { BitLensHost } from '../../contract/index.js';
export { BitLensError } from '../../contract/index.js';

let host: BitLensHost | null = null;

export function getHost(): BitLensHost {
  if (host) return host;
  const bridge = (globalThis as { bitlens?: PreloadBridge }).bitlens;
  if (bridge) {
    host = new ElectronHost(bridge);
  } else {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    host = new WebSocketHost(`${scheme}//${location.host}${WS_PATH}`);
  }
  return host;
}
