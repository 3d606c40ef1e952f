/** The station's side of the serial link: open ports, talk the protocol, find boards. Electron-free. */
export { SerialLink, cleanLogText } from './serial-link';
export { SerialBoardPort, type LinkOpener } from './board-port';
export type {
  SerialLinkOptions,
  LinkTransport,
  SerialLinkEvents,
  BoardLogLine,
  BadFrameNotice,
  RequestOptions,
} from './serial-link';
export { BoardSession, TOKEN_CHUNK_CHARS, MAX_BOOT_MS, isBoardRestart } from './board-session';
export type {
  BoardHello,
  BoardIdentity,
  BoardIdentityReport,
  CredentialWrite,
  RebootReport,
} from './board-session';
export { SerialLinkError, SERIAL_ERROR_CODES, boardErrorMessage } from './errors';
export type { SerialErrorCode } from './errors';
export {
  PortWatcher,
  listSerialPorts,
  listSerialPortsFromSysfs,
  matchesUsbFilter,
  normalizeUsbId,
} from './port-discovery';
export type { PortInfo, UsbFilter, PortWatcherOptions } from './port-discovery';
