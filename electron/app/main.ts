/**
 * The Electron main process: one station (openStation, as `station serve` opens it, with the OS keychain for
 * secrets), one window showing the operator app, and the IPC bridge between them. A thin host: the station decides
 * everything; this file adds the window's chrome and Electron's security checklist:
 *
 * - the renderer is sandboxed, context-isolated, without Node, and reaches the station only through the preload's
 *   bridge; every IPC call is checked to come from the app's own page in the main frame of its window;
 * - the page is served from `app://station/` with a strict CSP header (app-protocol.ts says why not `file:`);
 * - no navigation, no new windows, no webviews, no permission is ever granted (Web Serial/USB/HID included: the
 *   station owns the serial ports), no http(s)/ws/file request leaves the renderer;
 * - one instance per machine: a second one focuses the first (two stations on one database and one set of ports
 *   would fight over both).
 *
 * Bundled to dist/app/main.cjs by build/app-bundle.mjs; `npm start` runs it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  powerSaveBlocker,
  protocol,
  safeStorage,
  session,
  type Session,
  type WebContents,
} from 'electron';
import { openStationLog } from '../logging';
import { EnvFileSecretStore, SafeStorageSecretStore, type SecretStore } from '../secrets';
import { openStation, type Station } from '../station';
import { describeLoadFailure, findShippedFile, loadStationConfig } from '../../station-config';
import { watchActivity, type Activity } from './activity';
import { parseAppArgs } from './app-args';
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, appProtocolHandler, placeholderPage } from './app-protocol';
import { registerStationIpc, trustedSender } from './ipc';

const PRODUCT_NAME = 'Infuse Provisioning Station';
/** Also electron-builder's appId: Windows groups the taskbar entry (and its progress bar) by it. */
const APP_ID = 'io.infuse.provisioning-station';

/** Requests the renderer may never make: remote content and local files. */
const BLOCKED_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

// Before 'ready': a scheme's privileges are fixed when the browser process starts. "standard" gives the page a
// real origin (relative URLs, storage), "secure" makes it a secure context like https.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

if (app.requestSingleInstanceLock()) {
  void runApp().catch((error: unknown) => fail('The station app failed', error));
} else {
  app.exit(0);
}

function fail(title: string, error: unknown): void {
  dialog.showErrorBox(title, error instanceof Error ? error.message : String(error));
  app.exit(1);
}

function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.on('select-serial-port', (event, _ports, _contents, callback) => {
    event.preventDefault();
    callback('');
  });
  ses.on('select-hid-device', (event, _details, callback) => {
    event.preventDefault();
    callback();
  });
  ses.on('select-usb-device', (event, _details, callback) => {
    event.preventDefault();
    callback();
  });
  ses.webRequest.onBeforeRequest((details, callback) => {
    let protocolName = '';
    try {
      protocolName = new URL(details.url).protocol;
    } catch {
      // An unparsable URL is not one of ours either.
    }
    callback({ cancel: protocolName === '' || BLOCKED_PROTOCOLS.has(protocolName) });
  });
}

async function runApp(): Promise<void> {
  // The app path comes first when run as `electron <dir>`; a packaged app has only its own arguments.
  const args = parseAppArgs(process.argv.slice(app.isPackaged ? 1 : 2));
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
  if (args.kiosk) Menu.setApplicationMenu(null);

  let win: BrowserWindow | null = null;
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  app.on('window-all-closed', () => app.quit());

  await app.whenReady();
  const ses = session.defaultSession;
  hardenSession(ses);

  const loaded = loadStationConfig(args.config);
  if (!loaded.ok) {
    dialog.showErrorBox('The station config is not usable', describeLoadFailure(loaded).join('\n'));
    app.exit(1);
    return;
  }
  const { config } = loaded;
  const rendererIndex = findShippedFile(join('renderer', 'dist', 'index.html'));
  ses.protocol.handle(
    APP_SCHEME,
    appProtocolHandler({
      rendererDir: existsSync(rendererIndex) ? join(rendererIndex, '..') : null,
      placeholderHtml: () => placeholderPage(config.station.name),
    }),
  );

  /**
   * The app keeps secrets in the OS keychain. A sandbox station on a machine without a usable keychain keeps its
   * (sandbox-only) identity key in an owner-only file in its data folder instead, so the demo still runs; a
   * production station refuses to run without the keychain.
   */
  const appSecrets = (environment: string, dataDir: string): SecretStore => {
    const keychain = new SafeStorageSecretStore({
      safeStorage,
      dir: join(app.getPath('userData'), 'secrets'),
    });
    if (environment !== 'sandbox') return keychain;
    try {
      keychain.assertUsable();
      return keychain;
    } catch {
      return new EnvFileSecretStore({ dir: join(dataDir, 'secrets') });
    }
  };

  const log = openStationLog({
    dir: args.data !== undefined ? join(args.data, 'logs') : loaded.paths.logDir,
    stationId: config.station.id,
  });
  let station: Station;
  try {
    station = await openStation({
      config,
      paths: loaded.paths,
      secrets: appSecrets(config.environment, args.data ?? loaded.paths.dataDir),
      ...(args.data !== undefined && { dataDir: args.data }),
      logger: log.logger,
    });
  } catch (error) {
    await log.close();
    fail('The station could not start', error);
    return;
  }
  const logLine = (line: string) => log.logger.info({ event: 'electron', line });

  const window = new BrowserWindow({
    title: `${PRODUCT_NAME}: ${config.station.name}`,
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 600,
    show: false,
    kiosk: args.kiosk,
    fullscreen: args.kiosk,
    autoHideMenuBar: args.kiosk,
    webPreferences: {
      // The bundle is CommonJS (see build/app-bundle.mjs): __dirname is dist/app, beside preload.cjs.
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // A kiosk operator has no business in the developer tools.
      devTools: !args.kiosk,
    },
  });
  win = window;
  // The window's title names the product and the station, whatever the page calls itself.
  window.on('page-title-updated', (event) => event.preventDefault());
  window.once('ready-to-show', () => window.show());

  const ipc = registerStationIpc({
    ipcMain,
    station,
    isTrustedSender: trustedSender({
      origin: APP_ORIGIN,
      isAppWindow: (sender) => !window.isDestroyed() && sender.id === window.webContents.id,
    }),
    log: logLine,
  });

  let activity: Activity = { running: 0, total: 0 };
  let blocker: number | null = null;
  const stopWatching = watchActivity(station, (now) => {
    activity = now;
    // A sleeping machine would cut units off mid-write; the screen may still dim.
    if (now.running > 0 && blocker === null) blocker = powerSaveBlocker.start('prevent-app-suspension');
    if (now.running === 0 && blocker !== null) {
      powerSaveBlocker.stop(blocker);
      blocker = null;
    }
    if (!window.isDestroyed())
      window.setProgressBar(now.running > 0 ? now.running / Math.max(now.total, 1) : -1);
  });

  /** The operator agreed to stop the running units (or none ran); asked once per quit. */
  let stopAgreed = false;
  const mayStop = (): boolean => {
    if (stopAgreed || activity.running === 0) return true;
    const choice = dialog.showMessageBoxSync(window, {
      type: 'warning',
      buttons: ['Keep provisioning', 'Quit anyway'],
      defaultId: 0,
      cancelId: 0,
      noLink: true,
      title: PRODUCT_NAME,
      message: `${activity.running} ${activity.running === 1 ? 'slot is' : 'slots are'} provisioning.`,
      detail:
        'If you quit now, each running unit stops after its current step and is recorded as cancelled; ' +
        'its board needs a retry.',
    });
    stopAgreed = choice === 1;
    return stopAgreed;
  };
  window.on('close', (event) => {
    if (!mayStop()) event.preventDefault();
  });

  let closing: Promise<void> | null = null;
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (!mayStop()) return;
    closing ??= (async () => {
      stopWatching();
      ipc.close('the station app is closing');
      await station.close('the station app was closed');
      if (blocker !== null) powerSaveBlocker.stop(blocker);
      await log.close();
    })()
      .catch((error: unknown) => {
        process.stderr.write(`station app: closing failed: ${String(error)}\n`);
      })
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
  // Ctrl-C in the terminal of `npm start`, or a service manager: as the CLI does, units end as cancelled.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stopAgreed = true;
      app.quit();
    });
  }

  window
    .loadURL(APP_ENTRY_URL)
    .catch((error: unknown) => logLine(`the window could not load: ${String(error)}`));
}
