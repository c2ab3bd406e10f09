// Electron main process: one window, single instance, menu, the app:// protocol, IPC, the engine
// in a utility process, settings and the optional local API. Logic lives in plain modules (ipc.ts,
// protocol.ts, settings.ts, server/core) that are tested under Node; this file only wires them.
import { app, BrowserWindow, dialog, ipcMain, Menu, MessageChannelMain, protocol, session, shell, utilityProcess, type MessagePortMain } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_PORT_CHANNEL, IPC_REQUEST_CHANNEL, type EventName, type EventPayload } from '../contract/index.js';
import { AppService } from '../server/core/service.js';
import { startApiServer } from '../server/api-server.js';
import { createIpcHandler } from './ipc.js';
import { APP_SCHEME, APP_URL, isAllowedNavigation, resolveAppRequest } from './protocol.js';
import { SettingsFile } from './settings.js';
import { utilityEngineFactory, type ForkUtility } from './utility-engine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.resolve(here, '..');
const rendererDir = path.join(distDir, 'renderer');
const engineEntry = path.join(distDir, 'server', 'core', 'engine-process.js');
// Packaged: electron-builder's extraResources puts the models next to app.asar.
const modelsDir = app.isPackaged ? path.join(process.resourcesPath, 'models') : path.join(distDir, '..', 'assets', 'models');

// Every renderer sandboxed, whatever a window's options say.
app.enableSandbox();
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start();
}

let window: BrowserWindow | null = null;
let eventPort: MessagePortMain | null = null;

function sendEvent<K extends EventName>(name: K, payload: EventPayload<K>): void {
  eventPort?.postMessage({ name, payload });
}

async function start(): Promise<void> {
  await app.whenReady();
  const userData = app.getPath('userData');
  const problems: string[] = [];
  const settings = await SettingsFile.open(userData, (p) => problems.push(p.message));
  const service = await AppService.create({
    dataDir: userData,
    modelsDir,
    engineFactory: utilityEngineFactory(utilityProcess.fork as unknown as ForkUtility, engineEntry),
    emit: sendEvent,
  });

  // No permissions (camera, notifications...), no remote content.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const scheme = details.url.split(':')[0];
    callback({ cancel: !(scheme === APP_SCHEME || scheme === 'devtools' || scheme === 'data' || scheme === 'blob') });
  });
  protocol.handle(APP_SCHEME, async (request) => {
    const r = await resolveAppRequest(rendererDir, request.url);
    return new Response(r.body as ConstructorParameters<typeof Response>[0], { status: r.status, headers: r.headers });
  });

  ipcMain.handle(IPC_REQUEST_CHANNEL, createIpcHandler({ handle: (n, p) => service.handle(n, p), windowWebContentsId: () => window?.webContents.id ?? null }));

  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAllowedNavigation(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // External links go to the user's browser, never into a BitLens window.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  let api: Awaited<ReturnType<typeof startApiServer>> | null = null;
  const { api: apiSettings } = settings.get();
  if (apiSettings.enabled) {
    api = await startApiServer({ service, port: apiSettings.port, token: apiSettings.token }).catch((e: Error) => {
      problems.push(`local API not started: ${e.message}`);
      return null;
    });
  }

  createWindow(settings);
  buildMenu(service, settings);
  void service.startDefaultModel();
  for (const message of problems) sendEvent('store.error', { message });

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    void api?.close();
    void service.close();
  });
}

function createWindow(settings: SettingsFile): void {
  const saved = settings.get().window;
  window = new BrowserWindow({
    width: saved?.width ?? 1400,
    height: saved?.height ?? 900,
    ...(saved?.x !== undefined && { x: saved.x }),
    ...(saved?.y !== undefined && { y: saved.y }),
    minWidth: 480,
    minHeight: 360,
    title: 'BitLens',
    show: false,
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  if (saved?.maximized) window.maximize();
  window.once('ready-to-show', () => window?.show());
  // A fresh event channel for every page load (reload included).
  window.webContents.on('did-finish-load', () => {
    eventPort?.close();
    const { port1, port2 } = new MessageChannelMain();
    eventPort = port1;
    port1.start();
    window?.webContents.postMessage(IPC_PORT_CHANNEL, null, [port2]);
  });
  window.webContents.on('render-process-gone', (_e, details) => {
    if (details.reason !== 'clean-exit') window?.webContents.reload();
  });
  window.on('close', () => {
    if (!window) return;
    const b = window.getNormalBounds();
    void settings.update({ window: { width: b.width, height: b.height, x: b.x, y: b.y, maximized: window.isMaximized() } });
  });
  window.on('closed', () => {
    window = null;
    eventPort?.close();
    eventPort = null;
  });
  void window.loadURL(APP_URL);
}

function buildMenu(service: AppService, settings: SettingsFile): void {
  const addModel = async () => {
    const picked = await dialog.showOpenDialog({ title: 'Add a BitLens model folder', properties: ['openDirectory'] });
    const folder = picked.filePaths[0];
    if (picked.canceled || !folder) return;
    try {
      const entry = (await service.handle('models.add', { folder })) as { name: string };
      await dialog.showMessageBox({ message: `Added model "${entry.name}". Pick it in the model menu of the chat view.` });
    } catch (error) {
      dialog.showErrorBox('Not a BitLens model folder', (error as Error).message);
    }
  };
  const toggleApi = async () => {
    const s = settings.get();
    const next = await settings.update({ api: { ...s.api, enabled: !s.api.enabled } });
    await dialog.showMessageBox({
      message: next.api.enabled
        ? `The local API will listen on http://127.0.0.1:${next.api.port}/v1 after a restart.\nBearer token: ${next.api.token}`
        : 'The local API is off after a restart.',
    });
  };
  const isMac = process.platform === 'darwin';
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      ...(isMac ? [{ role: 'appMenu' as const }] : []),
      {
        label: 'File',
        submenu: [
          { label: 'Add Model Folder…', accelerator: 'CmdOrCtrl+O', click: () => void addModel() },
          { label: 'Local API (OpenAI-compatible)…', click: () => void toggleApi() },
          { type: 'separator' },
          isMac ? { role: 'close' } : { role: 'quit' },
        ],
      },
      { role: 'editMenu' },
      {
        label: 'View',
        submenu: [{ role: 'reload' }, ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]), { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }],
      },
      { role: 'windowMenu' },
    ]),
  );
}
