/** The built operator app's files, for the hosts that serve it. */
export { RendererFiles, escapeHtml, type StaticFile } from './renderer-files';
