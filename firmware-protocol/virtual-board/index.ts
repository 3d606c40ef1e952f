/** Virtual boards that implement PROTOCOL.md, and the PTY plumbing that puts them on real serial ports. */
export { VirtualBoard, createBlankBoardImage, VIRTUAL_BOARD_NAME, VIRTUAL_FIRMWARE_VERSION } from './board';
export type { VirtualBoardOptions, OnlineAnnouncement, NewBoardIdentity } from './board';
export { FaultSet, parseFault, FAULT_KINDS } from './faults';
export type { FaultRule, FaultKind } from './faults';
export { FileFlashStore, MemoryFlashStore } from './flash-store';
export type { FlashImage, FlashStore, StoredCredentials } from './flash-store';
export { PtyPair, socatAvailable, SocatMissingError } from './pty-pair';
export { PtyBoardHost, type PtyBoardHostOptions } from './pty-board-host';
export { startSimulator, DEFAULT_SIM_SOC } from './simulator';
export type { Simulator, SimulatedBoard, SimulatorCounters, SimulatorOptions } from './simulator';
export {
  DEFAULT_WIRE_BAUD_RATE,
  PacedWire,
  UART_BITS_PER_BYTE,
  wireTimeMs,
  type WireCounters,
  type WireModelOptions,
} from './wire-model';
export {
  DEVELOPMENT_CLOUD_KEY_SEED,
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
  developmentCloudPrivateKey,
} from './development-cloud-key';
