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

export interface SimulatorOptions {
  count: number;
  soc?: string;
  /** Keep each board's flash in `<stateDir>/board-<n>.json` so a restart is a power cycle, not a new board. */
  stateDir?: string;
  /** Where the PTY links go; a fresh temporary folder by default, removed on stop. */
  ptyDir?: string;
  faults?: FaultRule[];
  cloudPublicKey?: Buffer;
  processingDelayMs?: number;
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

export interface Simulator {
  boards: SimulatedBoard[];
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
        ...(options.comesOnline && { comesOnline: options.comesOnline }),
      });
      const host = new PtyBoardHost(board, {
        dir: ptyDir,
        name: String(index),
        ...(options.replugMs !== undefined && { replugMs: options.replugMs }),
      });
      await host.start();
      boards.push({ index, path: host.stationPath, soc: board.soc, mcuId: board.mcuId, board, host });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { boards, stop };
}
