/**
 * `app://station/...`: the operator app's files for the Electron window, each response with the app's Content
 * Security Policy. A custom protocol rather than `file:` because only a protocol handler can put the CSP on the
 * response as a header (a `<meta>` CSP cannot carry frame-ancestors and applies only once the parser reaches it),
 * the page gets a real, fixed origin that the IPC sender check can pin, and `file:` would let the page read any
 * file URL it is steered to. No Electron import: the handler maps a Request to a Response and is tested in Node.
 *
 * Requests stay inside the folder: the raw URL path is split before it is decoded (an encoded "/" or ".." never
 * becomes a separator), dot-names are refused, and the real path of the file must still lie in the folder.
 */
import { escapeHtml, RendererFiles } from '../renderer-files';

export const APP_SCHEME = 'app';
export const APP_HOST = 'station';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The page talks to the station only through the preload's bridge, so it needs its own scripts, styles and images
 * and nothing from anywhere else: no inline script, no eval, no frames, no forms, no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export interface AppProtocolOptions {
  /** The built operator app (renderer/dist), or null while there is none. */
  rendererDir: string | null;
  /** What index.html is while the renderer is not built. */
  placeholderHtml: () => string;
}

const headers = (contentType: string): Record<string, string> => ({
  'content-type': contentType,
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
});

const notFound = (): Response => new Response('not found', { status: 404, headers: headers('text/plain') });

export function appProtocolHandler(
  options: AppProtocolOptions,
): (request: { url: string }) => Promise<Response> {
  let files: Promise<RendererFiles | null> | undefined;
  return async (request) => {
    const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(request.url);
    if (!match || match[1]!.toLowerCase() !== APP_SCHEME || match[2]!.toLowerCase() !== APP_HOST) {
      return notFound();
    }
    const rawPath = match[3] === '' ? '/' : match[3]!;
    const renderer = await (files ??= RendererFiles.open(options.rendererDir));
    if (!renderer) {
      return rawPath === '/' || rawPath === '/index.html'
        ? new Response(options.placeholderHtml(), { headers: headers('text/html; charset=utf-8') })
        : notFound();
    }
    const file = await renderer.read(rawPath);
    return file
      ? new Response(new Uint8Array(file.body), { headers: headers(file.contentType) })
      : notFound();
  };
}

/** index.html before the operator app is built: says so, and how to build it. */
export function placeholderPage(stationName: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(stationName)}: provisioning station</title></head>
<body>
<h1>${escapeHtml(stationName)}</h1>
<p>The station is running, but the operator app is not built: run <code>npm run build:renderer</code>, then
restart the app (<code>npm start</code> builds it for you).</p>
</body>
</html>
`;
}
