/**
 * How a UI reaches a station, whatever carries it: the Electron preload exposes exactly this as
 * `window.stationBridge`; in a browser the renderer builds the same thing over HTTP and a WebSocket (the web host's
 * protocol). Messages on the stream are the web host's: a snapshot (or a resume marker), then events in seq order.
 */
import type { CommandFailure, CommandName, CommandResult } from './commands';
import type { StationEvent } from './events';
import type { Snapshot } from './snapshot';

export type StreamMessage =
  | { type: 'snapshot'; snapshot: Snapshot }
  /** The events after `after` follow, none missed: no snapshot needed. */
  | { type: 'resume'; after: number }
  | { type: 'event'; event: StationEvent };

export interface StreamPosition {
  runId: string;
  seq: number;
}

export interface StationBridge {
  /** Never rejects for a refusal: `{ok: false, code, message}`. */
  execute(command: CommandName, input: unknown): Promise<CommandResult<CommandName> | CommandFailure>;
  /**
   * Starts the stream (resuming after `from` when the station still holds those events); `onClose` fires when the
   * connection is lost. Returns the function that stops it.
   */
  subscribe(
    from: StreamPosition | null,
    onMessage: (message: StreamMessage) => void,
    onClose: (reason: string) => void,
  ): () => void;
}

/** The name the Electron preload gives the bridge on `window`. */
export const BRIDGE_GLOBAL = 'stationBridge';
