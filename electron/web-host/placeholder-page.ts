/** What `/` shows before the renderer is built: enough to use the API by hand. */
import { escapeHtml } from '../renderer-files';
import { COMMAND_NAMES } from '../station-api';

export function placeholderPage(stationName: string): string {
  const name = escapeHtml(stationName);
  const commands = COMMAND_NAMES.map((command) => `<li><code>${escapeHtml(command)}</code></li>`).join('');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${name}: provisioning station</title></head>
<body>
<h1>${name}</h1>
<p>The operator app is not built yet, so there is nothing to show here. The station API is running:</p>
<ul>
<li><code>POST /api/command</code> with <code>Content-Type: application/json</code> and a body
<code>{"command": "station.status", "input": {}}</code>; the answer is <code>{"ok": true, ...}</code> or
<code>{"ok": false, "code": "...", "message": "..."}</code>.</li>
<li><code>GET /api/events</code> as a WebSocket: a <code>{"type": "snapshot"}</code> message, then one
<code>{"type": "event"}</code> message per station event. Reconnect with <code>?after=SEQ&amp;run=RUNID</code> to
receive only what you missed.</li>
</ul>
<p>Every request needs the token: this browser holds it as a cookie; other clients send
<code>Authorization: Bearer TOKEN</code>.</p>
<p>Commands:</p>
<ul>${commands}</ul>
</body>
</html>
`;
}
