// The main process' request handler, free of Electron imports so it is tested under Node: every
// invoke is checked for its sender (our window, our app:// page, top frame) and its payload is
// validated against the contract before the service sees it.
import { toRequestError } from '../contract/index.js';
import { isAppUrl } from './protocol.js';

/** What the handler needs from Electron's IpcMainInvokeEvent. */
export interface IpcSender {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** Only the main window's top frame, showing our own app:// content, may call the engine. */
export function isTrustedSender(event: IpcSender, windowWebContentsId: number | null): boolean {
  if (windowWebContentsId === null || event.sender.id !== windowWebContentsId) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

export function createIpcHandler(opts: {
  handle: (name: unknown, params: unknown) => Promise<unknown>;
  windowWebContentsId: () => number | null;
}) {
  return async (event: IpcSender, message: unknown): Promise<IpcReply> => {
    if (!isTrustedSender(event, opts.windowWebContentsId())) {
      return { ok: false, error: { code: 'invalid_request', message: 'request refused: unknown sender' } };
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return { ok: false, error: { code: 'invalid_request', message: 'request must be an object { name, params }' } };
    }
    const { name, params } = message as { name?: unknown; params?: unknown };
    try {
      // handle() validates the name and the params against the contract's schemas.
      return { ok: true, result: await opts.handle(name, params) };
    } catch (error) {
      return { ok: false, error: toRequestError(error) };
    }
  };
}
