/**
 * The operator app's files, or a placeholder page while it is not built. Requests arrive with the token checked
 * already; what is left is keeping them inside the folder: raw (undecoded) URL paths are split before decoding, so
 * an encoded "/" or ".." can never become a separator, and the resolved real path must still lie in the folder (a
 * symlink pointing out of it is refused too).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { COMMAND_NAMES } from '../station-api';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** index.html names the hashed assets of one build: a cached copy would load the previous build's. */
const INDEX_CACHE = 'no-store';
const ASSET_CACHE = 'no-cache';

export class RendererFiles {
  private constructor(private readonly root: string) {}

  /** The folder when it holds a built app (an index.html), otherwise null. */
  static async open(dir: string | null | undefined): Promise<RendererFiles | null> {
    if (dir === null || dir === undefined) return null;
    try {
      const root = await realpath(dir);
      if (!(await stat(join(root, 'index.html'))).isFile()) return null;
      return new RendererFiles(root);
    } catch {
      return null;
    }
  }

  get folder(): string {
    return this.root;
  }

  /** `rawPath` is the URL path as it came, still percent-encoded; null when there is no such file to serve. */
  async read(rawPath: string): Promise<StaticFile | null> {
    const relative = rawPath === '/' ? ['index.html'] : safeSegments(rawPath);
    if (relative === null) return null;
    try {
      const file = await realpath(join(this.root, ...relative));
      if (!file.startsWith(this.root + sep)) return null;
      if (!(await stat(file)).isFile()) return null;
      const isIndex = file === join(this.root, 'index.html');
      return {
        body: await readFile(file),
        contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        cacheControl: isIndex ? INDEX_CACHE : ASSET_CACHE,
      };
    } catch {
      return null;
    }
  }
}

/** Decoded path segments, or null for anything that is not a plain path below the folder. */
function safeSegments(rawPath: string): string[] | null {
  if (!rawPath.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // Empty (a "//" or a trailing "/": no directory listings), dot-names (".", "..", hidden files), and anything
    // that decodes to a separator or a NUL.
    if (segment === '' || segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What `/` shows before the renderer is built: enough to use the API by hand. */
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
