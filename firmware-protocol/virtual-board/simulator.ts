/**
 * Many virtual boards, each on its own PTY pair: what `station sim boards` runs, and what integration tests and
 * the sandbox station use in place of a rack of real boards.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlankBoardImage, VirtualBoard, type OnlineAnnouncement } from './board';
import { DEVELOPMENT_CLOUD_PUBLIC_KEY } from './development-cloud-key';
import { FaultSet, type FaultRule } from './faults';
import { FileFlashStore, MemoryFlashStore, type FlashStore } from './flash-store';
import { PtyBoardHost } from './pty-board-host';
import { socatAvailable, SocatMissingError } from './pty-pair';
import {
  addWireCounters,
  emptyWireCounters,
  UART_BITS_PER_BYTE,
  wireBaudRate,
  type WireCounters,
  type WireModelOptions,
} from './wire-model';

export interface SimulatorOptions {
  count: number;
  soc?: string;
  /** Keep each board's flash in `<stateDir>/board-<n>.json` so a restart is a power cycle, not a new board. */
  stateDir?: string;
  /** Where the PTY links go; a fresh temporary folder by default, removed on stop. */
  ptyDir?: string;
  faults?: FaultRule[];
  cloudPublicKey?: Buffer;
  /** Time a board takes for an ordinary command (board default 5 ms). */
  processingDelayMs?: number;
  /** Extra time a flash write takes: COMMIT, LOCK, FACTORY-RESET (board default 20 ms). */
  flashWriteDelayMs?: number;
  /** Time from power-on or REBOOT to the boot banner (board default 150 ms). */
  bootDelayMs?: number;
  /** Pace every board's serial line like a UART (wire-model.ts; `{}` = 115200 baud). Absent: the PTY's speed. */
  wire?: WireModelOptions;
  replugMs?: number;
  comesOnline?: (announcement: OnlineAnnouncement) => void | Promise<void>;
}

export interface SimulatedBoard {
  index: number;
  /** The tty the station opens. */
  path: string;
  soc: string;
  mcuId: string;
  board: VirtualBoard;
  host: PtyBoardHost;
}

export interface SimulatorCounters {
  /** The wire model's rate, null when the boards run at the PTY's speed. */
  baudRate: number | null;
  /** Bits a byte takes on the wire (8N1), for turning bytes into wire time: bytes x bitsPerByte / baudRate s. */
  bitsPerByte: number;
  /** Every board's counters added up. */
  total: WireCounters;
  boards: Array<WireCounters & { index: number; path: string; mcuId: string }>;
}

export interface Simulator {
  boards: SimulatedBoard[];
  /** What crossed each board's serial line since start (or the last reset), each way: see PtyBoardHost.counters. */
  counters(): SimulatorCounters;
  resetCounters(): void;
  stop(): Promise<void>;
}

export const DEFAULT_SIM_SOC = 'nRF52840';

function boardStore(options: SimulatorOptions, index: number): FlashStore {
  const soc = options.soc ?? DEFAULT_SIM_SOC;
  const cloudPublicKey = options.cloudPublicKey ?? DEVELOPMENT_CLOUD_PUBLIC_KEY;
  if (!options.stateDir) return new MemoryFlashStore(createBlankBoardImage({ soc, cloudPublicKey }));
  mkdirSync(options.stateDir, { recursive: true });
  const store = new FileFlashStore(join(options.stateDir, `board-${index}.json`));
  const existing = store.load();
  if (!existing) {
    store.write(createBlankBoardImage({ soc, cloudPublicKey }));
  } else if (options.soc !== undefined && existing.identity.soc !== options.soc) {
    throw new Error(
      `${store.file} holds a ${existing.identity.soc} board, not ${options.soc}: ` +
        'use another --state-dir, or drop --soc to power the existing boards back on',
    );
  }
  return store;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (!Number.isInteger(options.count) || options.count < 1)
    throw new RangeError('count must be a positive integer');
  // Checked before any PTY exists, so a bad rate is a plain error rather than a half-started rack.
  const baudRate = options.wire ? wireBaudRate(options.wire) : undefined;
  if (!socatAvailable()) throw new SocatMissingError();
  const ownPtyDir = options.ptyDir === undefined;
  const ptyDir = options.ptyDir ?? mkdtempSync(join(tmpdir(), 'station-sim-'));
  mkdirSync(ptyDir, { recursive: true });
  const boards: SimulatedBoard[] = [];
  const stop = async () => {
    await Promise.all(boards.map((b) => b.host.stop()));
    if (ownPtyDir) rmSync(ptyDir, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < options.count; index++) {
      const board = new VirtualBoard({
        store: boardStore(options, index),
        faults: new FaultSet(options.faults ?? []),
        ...(options.processingDelayMs !== undefined && { processingDelayMs: options.processingDelayMs }),
        ...(options.flashWriteDelayMs !== undefined && { flashWriteDelayMs: options.flashWriteDelayMs }),
        ...(options.bootDelayMs !== undefined && { bootDelayMs: options.bootDelayMs }),
        ...(options.comesOnline && { comesOnline: options.comesOnline }),
      });
      const host = new PtyBoardHost(board, {
        dir: ptyDir,
        name: String(index),
        ...(options.replugMs !== undefined && { replugMs: options.replugMs }),
        ...(baudRate !== undefined && { wire: { baudRate } }),
      });
      await host.start();
      boards.push({ index, path: host.stationPath, soc: board.soc, mcuId: board.mcuId, board, host });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const counters = (): SimulatorCounters => {
    const perBoard = boards.map((b) => ({
      index: b.index,
      path: b.path,
      // Live: a board swapped for a blank one (continuous mode) has a new mcuId in the same socket.
      mcuId: b.board.mcuId,
      ...b.host.counters(),
    }));
    const total = emptyWireCounters();
    for (const board of perBoard) addWireCounters(total, board);
    return { baudRate: baudRate ?? null, bitsPerByte: UART_BITS_PER_BYTE, total, boards: perBoard };
  };
  const resetCounters = () => boards.forEach((b) => b.host.resetCounters());
  return { boards, counters, resetCounters, stop };
}
