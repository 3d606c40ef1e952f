/**
 * Who may talk to the web host. The host listens on loopback, but loopback is not a boundary: any page in the
 * operator's browser can send requests to 127.0.0.1, and a DNS-rebinding page can even make them same-origin by
 * name. So every request must (1) name this host in `Host` (defeats rebinding: the attacker's name is in `Host`),
 * (2) come from no page or from our own origin (defeats CSRF and cross-site WebSocket hijacking), and (3) carry the
 * per-run token (defeats other local users and processes).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_COOKIE = 'station_token';

export interface Refusal {
  status: 401 | 403;
  code: 'UNAUTHORIZED' | 'FORBIDDEN_HOST' | 'FORBIDDEN_ORIGIN';
  message: string;
}

export interface GuardInput {
  headers: IncomingHttpHeaders;
  /** A `?token=` that this request may present (only the page load `/` and the event socket take one). */
  queryToken: string | null;
}

/** Comparing digests makes the comparison constant-time for tokens of any length, the length included. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    values.push(part.slice(eq + 1).trim());
  }
  return values;
}

function bearer(header: string | undefined): string | null {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

export class Guard {
  private readonly hosts: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;
  private readonly expected: Buffer;

  constructor(port: number, token: string) {
    this.expected = digest(token);
    this.hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    this.origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  }

  /**
   * Where the request comes from: Host, then Origin. Checked before the token, so a foreign page learns nothing
   * about the token from the answer, and before anything else (a preflight carries no token but must still be
   * refused as foreign).
   */
  checkSource(headers: IncomingHttpHeaders): Refusal | null {
    const host = headers.host?.toLowerCase();
    if (host === undefined || !this.hosts.has(host)) {
      return {
        status: 403,
        code: 'FORBIDDEN_HOST',
        message: 'this host answers only as 127.0.0.1 or localhost',
      };
    }
    const origin = headers.origin;
    if (origin !== undefined && !this.origins.has(origin)) {
      return { status: 403, code: 'FORBIDDEN_ORIGIN', message: 'requests from other origins are refused' };
    }
    return null;
  }

  checkToken({ headers, queryToken }: GuardInput): Refusal | null {
    if (this.hasToken(headers, queryToken)) return null;
    return {
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'missing or wrong token: open the address the station printed (it carries the token)',
    };
  }

  /**
   * A `?token=` alone decides when present, so a wrong one in the address bar is never papered over by a cookie;
   * otherwise any one valid credential is enough. Every candidate is compared, so timing says nothing of which.
   */
  private hasToken(headers: IncomingHttpHeaders, queryToken: string | null): boolean {
    const presented =
      queryToken !== null
        ? [queryToken]
        : [bearer(headers.authorization), ...cookieValues(headers.cookie, TOKEN_COOKIE)].filter(
            (value): value is string => value !== null,
          );
    let valid = false;
    for (const candidate of presented) valid = timingSafeEqual(digest(candidate), this.expected) || valid;
    return valid;
  }
}
