/**
 * The credentials the sandbox accepts, and nothing else. A sandbox that took any header shape would let a station
 * pass here with a form the cloud refuses, and the mistake would surface on the factory floor instead.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthMode } from '../../station-config';

export interface AcceptedCredential {
  /** The station auth mode (AUTH_MODES) that sends this form. */
  authMode: AuthMode;
  /** The security scheme of the OpenAPI file (components.securitySchemes) whose description records the form. */
  scheme: 'xApiKeyBearer' | 'apiKeyAuthorization';
  /** Header name as the OpenAPI file spells it; HTTP header names compare without regard to case. */
  header: 'x-api-key' | 'Authorization';
  /** The word before the key; compared without regard to case, as HTTP compares auth schemes (RFC 9110 §11.1). */
  word: 'Bearer' | 'ApiKey';
}

/**
 * xApiKeyBearer: "header value is the literal string 'Bearer <JWT API key>'". apiKeyAuthorization:
 * "'Authorization: ApiKey ik_<keyId>.<secret>'" and, in the cloud's docs, "'Authorization: Bearer {token}'".
 */
export const ACCEPTED_CREDENTIALS: readonly AcceptedCredential[] = [
  { authMode: 'x-api-key-bearer', scheme: 'xApiKeyBearer', header: 'x-api-key', word: 'Bearer' },
  {
    authMode: 'authorization-bearer',
    scheme: 'apiKeyAuthorization',
    header: 'Authorization',
    word: 'Bearer',
  },
  {
    authMode: 'authorization-apikey',
    scheme: 'apiKeyAuthorization',
    header: 'Authorization',
    word: 'ApiKey',
  },
];

// Names clients use for a key in the URL. None is a query parameter of the API, and a key in a URL ends up in
// access logs, proxies and shell history.
const CREDENTIAL_QUERY_NAMES = new Set([
  'access_token',
  'api-key',
  'api_key',
  'apikey',
  'authorization',
  'key',
  'token',
  'x-api-key',
]);

const either = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;

const SEND_ONE_OF = `send ${either(ACCEPTED_CREDENTIALS.map((c) => `${c.header}: ${c.word} <key>`))}`;
export const MISSING_KEY_MESSAGE = `missing API key: ${SEND_ONE_OF}`;

const formsOf = (header: AcceptedCredential['header']) =>
  ACCEPTED_CREDENTIALS.filter((c) => c.header === header);

function unsupportedMessage(header: AcceptedCredential['header']): string {
  const words = either(formsOf(header).map((c) => `"${c.word} <key>"`));
  return header === 'Authorization'
    ? `unsupported Authorization scheme: use ${words}`
    : `unsupported ${header} value: use ${words}`;
}

export type PresentedCredential = { ok: true; key: string } | { ok: false; message: string };

/** The key a request presents in one of the accepted forms, or why the request is refused. */
export function presentedCredential(headers: IncomingHttpHeaders, url: string): PresentedCredential {
  const queryAt = url.indexOf('?');
  if (queryAt >= 0) {
    for (const name of new URLSearchParams(url.slice(queryAt + 1)).keys()) {
      if (CREDENTIAL_QUERY_NAMES.has(name.toLowerCase())) {
        return {
          ok: false,
          message: `an API key in the URL (query parameter "${name}") is refused, as URLs end up in logs: ${SEND_ONE_OF}`,
        };
      }
    }
  }
  const present = (['x-api-key', 'Authorization'] as const).filter(
    (header) => headers[header.toLowerCase()] !== undefined,
  );
  if (present.length > 1) {
    // Two credentials could disagree, and which one counts would be a guess.
    return { ok: false, message: 'send the API key in one header, not in both x-api-key and Authorization' };
  }
  const header = present[0];
  if (header === undefined) return { ok: false, message: MISSING_KEY_MESSAGE };
  const raw = headers[header.toLowerCase()];
  const value = Array.isArray(raw) ? raw.join(', ') : String(raw);
  const parts = /^(\S+) +(\S+)$/.exec(value);
  const form = parts && formsOf(header).find((c) => c.word.toLowerCase() === parts[1]!.toLowerCase());
  if (!parts || !form) return { ok: false, message: unsupportedMessage(header) };
  return { ok: true, key: parts[2]! };
}
