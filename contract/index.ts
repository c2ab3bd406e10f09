// The one contract between the UI and its host (Electron main process or the browser host).
export * from './schemas.js';
export * from './requests.js';
export * from './events.js';
export * from './validate.js';
export * from './host.js';
export * from './wire.js';
export * from './codec.js';
