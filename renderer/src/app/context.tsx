// React access to the controller and its store.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { AppController } from '../state/controller.js';
import type { AppState } from '../state/store.js';

export const ControllerContext = createContext<AppController | null>(null);

export function useController(): AppController {
  const c = useContext(ControllerContext);
  if (!c) throw new Error('useController outside <ControllerContext.Provider>');
  return c;
}

/** Subscribes to one slice of the state; the selector must return stored references, not new objects. */
export function useAppState<T>(select: (s: AppState) => T): T {
  const { store } = useController();
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}
