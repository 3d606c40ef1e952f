/**
 * Every error the sandbox sends has the API's body, `{code, message}` with `code` = the HTTP status, including the
 * ones fastify and node's HTTP server produce on their own (bad URLs, oversized headers, unparsable requests).
 * A client's error handling is tested against the sandbox, so a differently shaped body here would let a client
 * pass that then fails on the cloud's errors, or the reverse.
 */
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError } from 'fastify';

export interface ErrorBody {
  code: number;
  message: string;
}

/** The status an error carries (fastify's errors and http-errors style ones have `statusCode`), else 500. */
export function statusOf(error: unknown): number {
  const status =
    typeof error === 'object' && error !== null && 'statusCode' in error ? error.statusCode : undefined;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : 500;
}

/** A client error says what was wrong; a server error says nothing of the sandbox's insides. */
export function errorBodyOf(error: unknown): ErrorBody {
  const code = statusOf(error);
  const message = code < 500 && error instanceof Error ? error.message : 'sandbox internal error';
  return { code, message };
}

function clientErrorBody(error: ConnectionError): ErrorBody {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 431, message: `request headers are larger than ${maxHeaderSize} bytes` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 408, message: 'the request did not arrive in time' };
    case 'HPE_INVALID_METHOD':
      return { code: 501, message: 'unknown HTTP method' };
    default:
      return { code: 400, message: `malformed HTTP request (${error.code || 'unparsable'})` };
  }
}

/**
 * Node's HTTP server answers requests it cannot parse itself, before fastify sees them, with a bare status line
 * (or fastify's own JSON shape); this writes the API's body instead, then closes the connection, since the parser
 * has lost its place in the byte stream.
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // Node's own rule: a response already under way on this socket must not get a second one spliced into it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = clientErrorBody(error);
  const body = JSON.stringify(answer);
  const { code } = answer;
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}

/** For answers written below fastify's reply (whose typing is per route), on the node response itself. */
export function sendErrorBody(response: ServerResponse, body: ErrorBody): void {
  const text = JSON.stringify(body);
  response.writeHead(body.code, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** An `Expect` other than 100-continue: node would answer 417 with no body. */
export function answerExpectationFailed(request: IncomingMessage, response: ServerResponse): void {
  // The body the client may send anyway would otherwise be read as the next request.
  response.setHeader('connection', 'close');
  sendErrorBody(response, {
    code: 417,
    message: `unsupported Expect: ${String(request.headers.expect)}; only 100-continue is understood`,
  });
}
