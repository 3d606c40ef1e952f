/**
 * The IPC channels between the Electron main process and the preload, and what crosses them. Shared by both
 * sides so a channel or a payload cannot drift; the commands themselves are the contract's catalogue, carried
 * by name on one channel, so a command cannot exist on one side only. Types and constants only: the preload
 * bundles this file and must stay tiny.
 */
import type { StreamMessage, StreamPosition } from '../station-api';

export const IPC = {
  /** invoke `{command, input}` → the command's result, or `{ok: false, code, message}`. */
  execute: 'station:execute',
  /** invoke `{page, id, from}` → `{ok: true}` or a failure; then `stream` messages for that id. */
  subscribe: 'station:subscribe',
  /** invoke `{page, id}` → `{ok: true}`. */
  unsubscribe: 'station:unsubscribe',
  /** main → renderer: one `StreamEnvelope` per message. */
  stream: 'station:stream',
} as const;

export interface ExecuteRequest {
  command: unknown;
  input: unknown;
}

export interface SubscribeRequest {
  /**
   * Made anew each time the preload runs (each page load). A subscription from a new page means the previous page
   * of that window is gone, with whatever it had subscribed, even though its webContents lives on (a reload).
   */
  page: string;
  /** Chosen by the preload, so messages can be routed before the subscribe call has even answered. */
  id: string;
  from: StreamPosition | null;
}

export interface UnsubscribeRequest {
  page: string;
  id: string;
}

export type StreamEnvelope =
  | { id: string; message: StreamMessage }
  /** The stream ended on the main side (the station shut down, or it could not be delivered). */
  | { id: string; closed: string };
