/**
 * The station bridge in a browser: commands over `POST /api/command`, the stream over the `/api/events` WebSocket.
 * The page was opened as `/?token=...`, which the host traded for an HttpOnly cookie, so no script ever holds the
 * token: the browser sends the cookie with both.
 */
import type {
  CommandFailure,
  CommandName,
  CommandResult,
  StationBridge,
  StreamMessage,
  StreamPosition,
} from '../../../electron/station-api';

const failure = (code: string, message: string): CommandFailure => ({ ok: false, code, message });

export function webBridge(origin: string = window.location.origin): StationBridge {
  return {
    async execute(command: CommandName, input: unknown) {
      try {
        const response = await fetch(`${origin}/api/command`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ command, input }),
        });
        const body = (await response.json()) as CommandResult<CommandName> | CommandFailure;
        return body;
      } catch {
        return failure('CONNECTION_LOST', 'The station did not answer: check the connection and try again.');
      }
    },
    subscribe(
      from: StreamPosition | null,
      onMessage: (message: StreamMessage) => void,
      onClose: (reason: string) => void,
    ) {
      const query = new URLSearchParams();
      if (from) {
        query.set('after', String(from.seq));
        query.set('run', from.runId);
      }
      const url = `${origin.replace(/^http/, 'ws')}/api/events${query.size > 0 ? `?${query}` : ''}`;
      const socket = new WebSocket(url);
      let closed = false;
      socket.onmessage = (message) => {
        if (typeof message.data === 'string') onMessage(JSON.parse(message.data) as StreamMessage);
      };
      socket.onclose = (event) => {
        if (closed) return;
        closed = true;
        onClose(event.reason || `closed (${event.code})`);
      };
      return () => {
        closed = true;
        socket.close(1000);
      };
    },
  };
}
