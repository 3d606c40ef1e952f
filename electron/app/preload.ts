/**
 * The preload: `window.stationBridge` (the contract's StationBridge) over IPC, and nothing else. It runs sandboxed
 * with context isolation, so the page sees only the two functions exposed here; IpcRendererEvent objects (they
 * reach `ipcRenderer` itself) stay in this file, and the page receives plain messages. Bundled into one CJS file
 * (build/app-bundle.mjs): a sandboxed preload can require 'electron' and little more.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
// The bridge file alone: the contract's index would bundle zod and every schema into the preload.
// eslint-disable-next-line no-restricted-imports
import { BRIDGE_GLOBAL, type StationBridge, type StreamMessage } from '../station-api/bridge';
import type { CommandFailure } from '../station-api';
import { IPC, type StreamEnvelope } from './channels';

/** New on every load of the page: lets the main process tell this page's streams from a previous page's. */
const page = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
let nextId = 0;

const transportFailure = (error: unknown): CommandFailure => ({
  ok: false,
  code: 'INTERNAL_ERROR',
  message: `the station app could not reach the station (${error instanceof Error ? error.message : String(error)})`,
});

function isEnvelopeFor(id: string, value: unknown): value is StreamEnvelope {
  return typeof value === 'object' && value !== null && (value as { id?: unknown }).id === id;
}

const bridge: StationBridge = {
  async execute(command, input) {
    try {
      return await ipcRenderer.invoke(IPC.execute, { command, input });
    } catch (error) {
      return transportFailure(error);
    }
  },

  subscribe(from, onMessage, onClose) {
    const id = String(++nextId);
    let open = true;
    const listener = (_event: IpcRendererEvent, envelope: unknown): void => {
      if (!open || !isEnvelopeFor(id, envelope)) return;
      if ('closed' in envelope) {
        stop();
        onClose(envelope.closed);
      } else {
        onMessage(envelope.message as StreamMessage);
      }
    };
    const stop = (): void => {
      open = false;
      ipcRenderer.removeListener(IPC.stream, listener);
    };
    // Listening before asking: the main process sends the first message before its answer arrives.
    ipcRenderer.on(IPC.stream, listener);
    ipcRenderer.invoke(IPC.subscribe, { page, id, from }).then(
      (result: { ok: boolean; message?: string }) => {
        if (result.ok || !open) return;
        stop();
        onClose(result.message ?? 'the station refused the event stream');
      },
      (error: unknown) => {
        if (!open) return;
        stop();
        onClose(transportFailure(error).message);
      },
    );
    return () => {
      if (!open) return;
      stop();
      ipcRenderer.invoke(IPC.unsubscribe, { page, id }).catch(() => undefined);
    };
  },
};

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge);
