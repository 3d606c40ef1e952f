/**
 * The built operator app (renderer/dist), served by every host that shows it: the loopback web host and Electron's
 * app:// protocol. Requests arrive checked by their host; what is left is keeping them inside the folder: raw
 * (undecoded) URL paths are split before decoding, so an encoded "/" or ".." can never become a separator, and the
 * resolved real path must still lie in the folder (a symlink pointing out of it is refused too).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';

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

/** For the placeholder pages hosts show while there is no build. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
