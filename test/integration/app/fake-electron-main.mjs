// Runs the bundled Electron main process (dist/app/main.cjs) in plain Node with a recording stand-in for the
// 'electron' module, so the window's security settings, the session's refusals, the protocol handler and the IPC
// bridge are exercised on a real station where no Electron binary can run. Usage:
//   node fake-electron-main.mjs BUNDLE APP_DIR [app args...]
// Prints one JSON report line on stdout when the app has quit (or exited), then exits with the app's code.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [bundle, appDir, ...appArgs] = process.argv.slice(2);
const home = mkdtempSync(join(tmpdir(), 'fake-electron-'));
const report = {
  privilegedSchemes: null,
  windowOptions: null,
  loadedUrl: null,
  menu: 'default',
  errors: [],
  ipcChannels: [],
  checks: {},
  quit: false,
  exitCode: null,
};

let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  report.exitCode = code;
  rmSync(home, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(code));
}

const session = {
  handlers: {},
  listeners: {},
  setPermissionRequestHandler: (fn) => (session.handlers.permissionRequest = fn),
  setPermissionCheckHandler: (fn) => (session.handlers.permissionCheck = fn),
  setDevicePermissionHandler: (fn) => (session.handlers.devicePermission = fn),
  on: (name, fn) => (session.listeners[name] = fn),
  webRequest: { onBeforeRequest: (fn) => (session.handlers.beforeRequest = fn) },
  protocol: { handle: (scheme, fn) => (session.handlers.protocol = { scheme, fn }) },
};

const ipcHandlers = new Map();
const ipcMain = {
  handle: (channel, fn) => {
    ipcHandlers.set(channel, fn);
    report.ipcChannels.push(channel);
  },
  removeHandler: (channel) => ipcHandlers.delete(channel),
};

class App extends EventEmitter {
  isPackaged = false;
  requestSingleInstanceLock = () => true;
  setAppUserModelId = () => undefined;
  whenReady = () => Promise.resolve();
  getPath = (name) => join(home, name);
  exit = (code) => finish(code);
  quit = () => {
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) {
      report.quit = true;
      finish(0);
    }
  };
}
const app = new App();

const mainFrame = { url: 'app://station/index.html', parent: null, processId: 1, routingId: 1 };
const windows = [];

class BrowserWindow extends EventEmitter {
  static getAllWindows = () => windows;

  constructor(options) {
    super();
    report.windowOptions = options;
    this.webContents = Object.assign(new EventEmitter(), {
      id: 1,
      mainFrame,
      sent: [],
      isDestroyed: () => false,
      send: (channel, payload) => this.webContents.sent.push({ channel, payload }),
      setWindowOpenHandler: (fn) => (this.webContents.windowOpenHandler = fn),
    });
    windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }

  isDestroyed = () => false;
  isMinimized = () => false;
  show = () => undefined;
  focus = () => undefined;
  restore = () => undefined;
  setProgressBar = () => undefined;

  async loadURL(url) {
    report.loadedUrl = url;
    setImmediate(() => runChecks(this).catch((error) => report.errors.push(`checks: ${error.stack}`)));
  }
}

const electron = {
  app,
  BrowserWindow,
  ipcMain,
  session: { defaultSession: session },
  protocol: { registerSchemesAsPrivileged: (schemes) => (report.privilegedSchemes = schemes) },
  dialog: {
    showErrorBox: (title, message) => report.errors.push(`${title}: ${message}`),
    showMessageBoxSync: () => 0,
  },
  Menu: { setApplicationMenu: (menu) => (report.menu = menu) },
  powerSaveBlocker: { start: () => 1, stop: () => undefined },
  safeStorage: {
    isEncryptionAvailable: () => false,
    encryptString: () => Buffer.alloc(0),
    decryptString: () => '',
  },
};

async function runChecks(win) {
  const checks = report.checks;
  const contents = win.webContents;
  const response = await session.handlers.protocol.fn({ url: 'app://station/index.html' });
  checks.protocol = {
    scheme: session.handlers.protocol.scheme,
    status: response.status,
    csp: response.headers.get('content-security-policy'),
  };
  checks.traversal = (
    await session.handlers.protocol.fn({ url: 'app://station/%2e%2e/package.json' })
  ).status;
  let granted;
  session.handlers.permissionRequest(contents, 'media', (value) => (granted = value));
  checks.permissionRequest = granted;
  checks.permissionCheck = session.handlers.permissionCheck(contents, 'clipboard-read');
  checks.devicePermission = session.handlers.devicePermission({ deviceType: 'serial' });
  let serialPick;
  let serialPrevented = false;
  session.listeners['select-serial-port'](
    { preventDefault: () => (serialPrevented = true) },
    [{ portId: '1' }],
    contents,
    (id) => (serialPick = id),
  );
  checks.serialPort = { prevented: serialPrevented, picked: serialPick };
  const requestCancel = (url) => {
    let cancel;
    session.handlers.beforeRequest({ url }, (answer) => (cancel = answer.cancel));
    return cancel;
  };
  checks.blocked = ['https://example.com/x.js', 'http://127.0.0.1/', 'ws://x/', 'file:///etc/passwd'].map(
    requestCancel,
  );
  checks.allowed = ['app://station/assets/a.js', 'devtools://devtools/'].map(requestCancel);
  checks.windowOpen = contents.windowOpenHandler({ url: 'https://example.com' });
  let navigationPrevented = false;
  contents.emit(
    'will-navigate',
    { preventDefault: () => (navigationPrevented = true) },
    'https://example.com',
  );
  checks.navigationPrevented = navigationPrevented;

  const execute = ipcHandlers.get('station:execute');
  const trusted = { sender: contents, senderFrame: mainFrame };
  const status = await execute(trusted, { command: 'station.status', input: {} });
  checks.status = {
    ok: status.ok,
    station: status.snapshot?.station?.name,
    slots: status.snapshot?.slots?.length,
  };
  const foreignFrame = { url: 'https://evil.example/', parent: null, processId: 1, routingId: 1 };
  checks.foreign = await execute(
    { sender: contents, senderFrame: foreignFrame },
    {
      command: 'station.status',
      input: {},
    },
  );
  checks.unknown = (await execute(trusted, { command: 'nope', input: {} })).code;
  checks.subscribe = await ipcHandlers.get('station:subscribe')(trusted, { page: 'p', id: '1', from: null });
  checks.firstStreamMessage = contents.sent[0]?.payload?.message?.type ?? null;
  // The operator closes the app: the station closes, then the app quits for real.
  app.quit();
}

// What `require('electron')` returns inside the bundle.
const require = createRequire(bundle);
const electronPath = require.resolve('electron');
const fake = new Module(electronPath);
fake.exports = electron;
fake.loaded = true;
require.cache[electronPath] = fake;

process.argv = [process.execPath, appDir, ...appArgs];
setTimeout(() => {
  report.errors.push('timed out');
  finish(3);
}, 60_000).unref();
try {
  require(bundle);
} catch (error) {
  report.errors.push(`load: ${error.stack}`);
  finish(2);
}
