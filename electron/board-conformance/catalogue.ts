/**
 * Every check the conformance run makes, in the order the report lists them, each with the PROTOCOL.md section
 * (version 1.1 numbering) it holds the board to. One list, so the table, the JSON, the docs and the tests agree on
 * ids and sections; a check the run did not reach is still listed (SKIPPED, with the reason).
 */

export interface CheckDefinition {
  id: string;
  /** The PROTOCOL.md section the check cites, e.g. "5.5". */
  section: string;
  title: string;
}

export const CHECKS = [
  // Whole-run observations: judged from every line of the run, recorded at its end.
  {
    id: 'transport.connected',
    section: '1',
    title: 'The board stays connected and answering for the whole run',
  },
  { id: 'session.no-restart', section: '3.2', title: 'The board restarts only when told to (REBOOT)' },
  { id: 'framing.reply-id', section: '2', title: "Every reply carries its request's id" },
  { id: 'framing.reply-crc', section: '2', title: 'Every board frame is well-formed and passes its CRC-32' },
  {
    id: 'framing.marker',
    section: '2',
    title: 'Board frames start with "~<", never with the station\'s "~>"',
  },
  {
    id: 'timing.reply-timeout',
    section: '4',
    title: "Every request is answered within its command's timeout",
  },
  { id: 'errors.codes', section: '7', title: 'Every error code is one of section 7' },
  {
    id: 'busy.retry-after',
    section: '4.3',
    title: 'BUSY carries retryAfterMs <= 5000 and clears within 5 answers',
  },

  // Session.
  { id: 'hello.reply', section: '5.1', title: 'HELLO answers proto, fw, board, caps and maxLine' },
  { id: 'hello.version', section: '3.4', title: 'HELLO picks version 1 from proto=1 and from proto=1,2' },
  {
    id: 'hello.caps',
    section: '5.1',
    title: 'caps lists the provisioning commands CHALLENGE, WRITE, COMMIT, READBACK, VERIFY',
  },
  { id: 'hello.max-line', section: '5.1', title: 'maxLine is at least 512' },
  {
    id: 'errors.unsupported-version',
    section: '3.4',
    title: 'HELLO proto=7 is answered UNSUPPORTED_VERSION with the supported list',
  },
  {
    id: 'identify.reply',
    section: '5.2',
    title: 'IDENTIFY fields are well-formed: known soc, mcuId length, 32-byte keys, state, network id',
  },
  {
    id: 'identify.consistent',
    section: '5.2',
    title: 'IDENTIFY state and device id agree with each other and with READBACK',
  },
  {
    id: 'readback.reply',
    section: '5.6',
    title: 'READBACK reports state, device id, cloud key and fingerprints, never a secret',
  },

  // Framing and error replies.
  {
    id: 'errors.bad-crc',
    section: '2',
    title: 'A frame with a wrong CRC is answered BAD_FRAME with its id, not acted on',
  },
  { id: 'errors.id-0000', section: '2', title: 'Request id 0000 is answered BAD_FRAME' },
  { id: 'errors.duplicate-key', section: '2', title: 'A key given twice is answered BAD_FRAME' },
  {
    id: 'errors.malformed',
    section: '2',
    title: 'A field without "=" and a broken percent escape are answered BAD_FRAME',
  },
  { id: 'framing.escapes', section: '2', title: 'Percent escapes are decoded before a value is read' },
  { id: 'errors.unknown-command', section: '7', title: 'An unknown command is answered UNKNOWN_COMMAND' },
  {
    id: 'errors.unknown-field',
    section: '5',
    title: 'An unknown field is answered BAD_ARGUMENT field=<name>',
  },
  { id: 'errors.line-too-long', section: '2.3', title: 'A line over 512 bytes is answered LINE_TOO_LONG' },
  {
    id: 'errors.after-long-line',
    section: '2.3',
    title: 'The board answers normally after an over-long line',
  },
  {
    id: 'framing.console-input',
    section: '2',
    title: 'Log lines, empty lines and echoed "~<" lines get no reply',
  },
  { id: 'framing.noise', section: '8', title: 'Random bytes and NULs do not upset the board' },

  // CHALLENGE, retransmission.
  {
    id: 'challenge.reply',
    section: '5.3',
    title: 'CHALLENGE answers type=0, the keys and network id of IDENTIFY, a 68-byte response',
  },
  {
    id: 'challenge.response',
    section: '6.3',
    title: 'The response opens with the development cloud key and holds challenge, hardware id, device id',
  },
  { id: 'challenge.fresh-nonce', section: '6.3', title: 'Every CHALLENGE acted on seals with a fresh nonce' },
  {
    id: 'dedup.repeat',
    section: '4',
    title: 'The same line again gets the same reply, without acting again',
  },
  { id: 'dedup.new-request', section: '4', title: 'The same id with other bytes is a new request' },

  // VERIFY.
  {
    id: 'verify.not-provisioned',
    section: '5.7',
    title: 'VERIFY on a board without a device id is answered NOT_PROVISIONED',
  },
  {
    id: 'order.not-provisioned',
    section: '7.1',
    title: 'An unknown field and a malformed value are refused BAD_ARGUMENT before NOT_PROVISIONED',
  },
  { id: 'verify.sign', section: '6.4', title: 'VERIFY key=sign: the MAC is HMAC-SHA256 under the sign key' },
  {
    id: 'verify.key-id',
    section: '6.4',
    title: 'VERIFY keyId is CRC-32(cloud key || device key) & 0xffffff',
  },
  {
    id: 'verify.interface',
    section: '6.2',
    title: "VERIFY key=udp gpsDay=<today>: the MAC is under that day's interface key",
  },
  {
    id: 'verify.bad-argument',
    section: '5.7',
    title: 'VERIFY refuses an unknown key name and a missing gpsDay with BAD_ARGUMENT',
  },

  // WRITE without COMMIT (RAM only), REBOOT.
  {
    id: 'write.bad-value',
    section: '5.4',
    title: 'A bad value is refused BAD_ARGUMENT field=<name>, and nothing of the frame is staged',
  },
  {
    id: 'write.append-without-token',
    section: '5.4',
    title: 'append=1 with no token staged is refused BAD_ARGUMENT field=append',
  },
  {
    id: 'write.staging',
    section: '5.4',
    title: 'WRITE stages fields: the reply lists them with state=staged, READBACK shows them',
  },
  { id: 'dedup.write', section: '4', title: 'A WRITE append=1 sent twice is appended once' },
  {
    id: 'write.token-limit',
    section: '5.4',
    title: 'A 2048-character MQTT token is taken, a 2049th character refused',
  },
  { id: 'reboot.reply', section: '5.9', title: 'REBOOT is answered OK before the board restarts' },
  {
    id: 'reboot.boot-event',
    section: '3.2',
    title: 'After REBOOT the board sends EVT boot proto= fw= within 5000 ms',
  },
  {
    id: 'order.before-hello',
    section: '7.1',
    title: 'Before HELLO, BAD_FRAME and UNKNOWN_COMMAND come before HELLO_REQUIRED',
  },
  {
    id: 'reboot.hello-required',
    section: '3.3',
    title: 'After boot every command but HELLO is answered HELLO_REQUIRED',
  },
  {
    id: 'reboot.discards-staged',
    section: '3.1',
    title: 'REBOOT discards the staged fields and keeps the committed set',
  },

  // --destructive.
  {
    id: 'commit.incomplete',
    section: '5.5',
    title: 'COMMIT refuses an incomplete set with INCOMPLETE field=<name>',
  },
  { id: 'commit.keeps-staged', section: '3.1', title: 'A failed COMMIT keeps the staged fields' },
  { id: 'write.append', section: '5.4', title: 'An MQTT token over two frames (append=1) is staged as one' },
  {
    id: 'commit.stores',
    section: '5.5',
    title: 'COMMIT stores the set: changed=1, state=committed, deviceId',
  },
  {
    id: 'dedup.commit',
    section: '4',
    title: 'The COMMIT line again gets the remembered reply (changed=1), not a second commit',
  },
  { id: 'commit.nothing-staged', section: '5.5', title: 'COMMIT with nothing staged answers changed=0' },
  { id: 'readback.fingerprints', section: '6.5', title: 'READBACK fingerprints match what was written' },
  {
    id: 'challenge.provisioned',
    section: '6.3',
    title: 'After COMMIT the response holds the committed device id and network id',
  },
  {
    id: 'write.already-provisioned',
    section: '5.4',
    title: 'Another device id is refused ALREADY_PROVISIONED deviceId=<held>',
  },
  { id: 'reboot.keeps-committed', section: '3.1', title: 'The committed set survives a REBOOT' },
  {
    id: 'reset.guard',
    section: '5.10',
    title: 'FACTORY-RESET with a wrong mcuId or confirm is refused BAD_ARGUMENT, nothing erased',
  },
  {
    id: 'reset.erases',
    section: '5.10',
    title: 'FACTORY-RESET erases the credentials and the staged fields: state=blank, READBACK deviceId=none',
  },
  {
    id: 'reset.blank',
    section: '5.10',
    title: 'FACTORY-RESET on a blank board checks its guard and answers OK state=blank',
  },

  // --lock.
  { id: 'lock.not-provisioned', section: '5.8', title: 'LOCK on a blank board is answered NOT_PROVISIONED' },
  {
    id: 'lock.guard',
    section: '5.8',
    title: 'LOCK with another device id is refused BAD_ARGUMENT field=deviceId',
  },
  {
    id: 'lock.locks',
    section: '5.8',
    title: 'LOCK answers state=locked, discards the staged fields, and the board reports locked',
  },
  { id: 'lock.idempotent', section: '5.8', title: 'LOCK again answers OK state=locked' },
  {
    id: 'order.locked',
    section: '7.1',
    title: 'On a locked board an unknown field is refused before LOCKED, a wrong guard after it',
  },
  {
    id: 'lock.refuses',
    section: '5.8',
    title: 'A locked board refuses WRITE, COMMIT and FACTORY-RESET with LOCKED',
  },
  {
    id: 'lock.still-works',
    section: '5.8',
    title: 'A locked board still answers IDENTIFY, READBACK, CHALLENGE and VERIFY',
  },
  { id: 'lock.survives-reboot', section: '3.1', title: 'The lock survives a REBOOT' },
] as const satisfies readonly CheckDefinition[];

export type CheckId = (typeof CHECKS)[number]['id'];

export function checkDefinition(id: CheckId): CheckDefinition {
  const definition = CHECKS.find((check) => check.id === id);
  if (!definition) throw new RangeError(`unknown conformance check ${id}`);
  return definition;
}

/** Why the destructive checks are skipped in a default run; printed in their rows. */
export const NEEDS_DESTRUCTIVE = "needs --destructive: writes and erases the board's credentials";
/** Why the lock checks are skipped without --lock. */
export const NEEDS_LOCK = 'needs --lock: locks the board for good (irreversible on real hardware)';

/** The test credentials a destructive run writes: fixed, and never a cloud id of a real device. */
export const TEST_DEVICE_ID = '0000c0ffee000001';
export const OTHER_TEST_DEVICE_ID = '0000c0ffee000002';
export const TEST_NETWORK_ID = 4660;
export const TEST_TOKEN_EXPIRY = '2030-01-01T00:00:00Z';
