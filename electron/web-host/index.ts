/**
 * The loopback web host: the station API, and the operator app, for a browser on this machine.
 *
 * - `POST /api/command` `{command, input}` (JSON, at most 64 KB): 200 with the station's result as is, refusals
 *   and unknown command names included; 400/413/415 only for a request that never reached the station; 500
 *   `INTERNAL_ERROR` (no details) if the station throws.
 * - `GET /api/events` (WebSocket): `snapshot`, then `event` messages; `?after=SEQ&run=RUNID` resumes (`resume`,
 *   then exactly the missed events) while the station still holds them. Closed with 4008 when the client reads too
 *   slowly, 1003 when it sends anything, 1001 when the host closes.
 * - Access: `Host` must be 127.0.0.1:PORT or localhost:PORT, an `Origin` must be that origin, and the per-run token
 *   must come as `Authorization: Bearer`, the `station_token` cookie (set by opening `/?token=`), or `?token=` on
 *   the socket. No CORS, ever.
 */
export { startWebHost, type WebHost, type WebHostOptions } from './web-host';
export { CLOSE_TOO_SLOW, type WebHostMessage } from './event-stream';
