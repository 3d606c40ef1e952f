/**
 * A board that implements PROTOCOL.md the way real firmware would, minus the hardware. It is transport-agnostic:
 * bytes go in through `receive`, lines come out as 'output' events, and a transport (a PTY pair in the simulator,
 * a plain buffer in unit tests) carries them.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import {
  decodeLine,
  encodeFrame,
  EVENT_FRAME_ID,
  MAX_LINE_BYTES,
  type BoardFrame,
  type FrameFields,
  type RequestFrame,
} from '../codec/frame';
import { LineSplitter } from '../codec/line-splitter';
import { crc32Hex } from '../codec/crc32';
import {
  COMMAND_NAMES,
  MAX_MQTT_TOKEN_CHARS,
  MAX_NETWORK_ID,
  PROTOCOL_VERSION,
  SOC_MCU_ID_HEX_LENGTH,
  WRITABLE_FIELDS,
  base64Bytes,
  deviceIdText,
  isoUtcText,
  keyInterfaceText,
  type BoardErrorCode,
  type BoardState,
  type CommandName,
  type WritableField,
} from '../commands';
import {
  AEAD_NONCE_BYTES,
  CHALLENGE_BYTES,
  UNPROVISIONED_DEVICE_ID,
  VERIFY_NONCE_BYTES,
  deriveInterfaceKey,
  deriveSignKey,
  deviceKeyId,
  generateX25519KeyPair,
  hardwareIdFromMcuId,
  sealChallengeResponse,
  secretFingerprint,
  verifyProof,
  x25519KeyPairFromPrivate,
  x25519SharedSecret,
  type KeyInterface,
} from '../infuse-crypto';
import { FaultSet } from './faults';
import type { FlashImage, FlashStore, StoredCredentials } from './flash-store';

export const VIRTUAL_BOARD_NAME = 'infuse-virtual';
export const VIRTUAL_FIRMWARE_VERSION = '2.3.1';
/** A virtual board implements every command; HELLO and IDENTIFY are implied, so caps lists the rest. */
export const VIRTUAL_BOARD_CAPABILITIES = COMMAND_NAMES.filter((c) => c !== 'HELLO' && c !== 'IDENTIFY');

export interface NewBoardIdentity {
  soc: string;
  cloudPublicKey: Buffer;
  mcuId?: string;
  devicePrivateKey?: Buffer;
  firmwareVersion?: string;
}

/** A fresh, blank board image: a new key pair and a random mcuId of the right length for its SoC. */
export function createBlankBoardImage(identity: NewBoardIdentity): FlashImage {
  const hexLength = SOC_MCU_ID_HEX_LENGTH[identity.soc];
  if (hexLength === undefined) throw new RangeError(`unknown soc "${identity.soc}"`);
  const mcuId = identity.mcuId ?? randomBytes(hexLength / 2).toString('hex');
  if (mcuId.length !== hexLength)
    throw new RangeError(`an mcuId for ${identity.soc} is ${hexLength} hex characters`);
  const keyPair = identity.devicePrivateKey
    ? x25519KeyPairFromPrivate(identity.devicePrivateKey)
    : generateX25519KeyPair();
  return {
    format: 'infuse-virtual-board/1',
    identity: {
      soc: identity.soc,
      mcuId,
      devicePrivateKey: keyPair.privateKey.toString('base64'),
      builtInCloudPublicKey: identity.cloudPublicKey.toString('base64'),
      firmwareVersion: identity.firmwareVersion ?? VIRTUAL_FIRMWARE_VERSION,
      boardName: VIRTUAL_BOARD_NAME,
    },
    credentials: null,
    locked: false,
  };
}

export interface OnlineAnnouncement {
  deviceId: string;
  devicePrivateKey: Buffer;
  cloudPublicKey: Buffer;
}

export interface VirtualBoardOptions {
  store: FlashStore;
  faults?: FaultSet;
  /** Time the board takes for an ordinary command. */
  processingDelayMs?: number;
  /** Extra time a flash write takes (COMMIT, LOCK, FACTORY-RESET). */
  flashWriteDelayMs?: number;
  /** Time from REBOOT (or power-on) until the boot banner. */
  bootDelayMs?: number;
  /** Random bytes; fixed only to reproduce the worked examples of PROTOCOL.md. */
  random?: (length: number) => Buffer;
  /** Milliseconds since power-on for log timestamps; defaults to the real clock. */
  uptimeMs?: () => number;
  /** Called when a committed board boots or commits: a real one would now reach the cloud. */
  comesOnline?: (announcement: OnlineAnnouncement) => void | Promise<void>;
}

type Reply = BoardFrame;
type Staged = Partial<Record<WritableField, string>>;

const PROCESSING_DELAY_MS = 5;
const FLASH_WRITE_DELAY_MS = 20;
const BOOT_DELAY_MS = 150;
const GARBAGE_BYTES = 48;

export interface VirtualBoardEvents {
  output: [text: string];
  /** The board lost power because of an unplug fault; the transport should make its port disappear. */
  unplug: [];
  'power-on': [];
}

export class VirtualBoard extends EventEmitter<VirtualBoardEvents> {
  readonly faults: FaultSet;
  private readonly store: FlashStore;
  private image: FlashImage;
  private readonly splitter = new LineSplitter(MAX_LINE_BYTES);
  private readonly options: Required<Omit<VirtualBoardOptions, 'comesOnline' | 'faults' | 'store'>> &
    Pick<VirtualBoardOptions, 'comesOnline'>;
  private powered = false;
  private booted = false;
  /** Bumped on every power change so timers of a previous life never act. */
  private powerEpoch = 0;
  private poweredAt = Date.now();
  private helloDone = false;
  private staged: Staged = {};
  private lastRequest: { line: string; reply: Reply } | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: VirtualBoardOptions) {
    super();
    this.store = options.store;
    const image = options.store.load();
    if (!image)
      throw new Error('the flash store holds no board image; create one with createBlankBoardImage');
    this.image = image;
    this.faults = options.faults ?? new FaultSet();
    this.options = {
      processingDelayMs: options.processingDelayMs ?? PROCESSING_DELAY_MS,
      flashWriteDelayMs: options.flashWriteDelayMs ?? FLASH_WRITE_DELAY_MS,
      bootDelayMs: options.bootDelayMs ?? BOOT_DELAY_MS,
      random: options.random ?? randomBytes,
      uptimeMs: options.uptimeMs ?? (() => Date.now() - this.poweredAt),
      comesOnline: options.comesOnline,
    };
  }

  get soc(): string {
    return this.image.identity.soc;
  }

  get mcuId(): string {
    return this.image.identity.mcuId;
  }

  get devicePublicKey(): Buffer {
    return x25519KeyPairFromPrivate(this.devicePrivateKey()).publicKey;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  /** What the board's flash holds now (for tests and the simulator; a real board would not tell). */
  get flash(): FlashImage {
    return structuredClone(this.image);
  }

  get state(): BoardState {
    if (this.image.locked) return 'locked';
    if (Object.keys(this.staged).length > 0) return 'staged';
    return this.image.credentials ? 'committed' : 'blank';
  }

  /** Apply power: RAM state is gone, flash is re-read, and the board boots after its boot delay. */
  powerOn(bootDelayMs = this.options.bootDelayMs): void {
    this.powerEpoch += 1;
    this.powered = true;
    this.booted = false;
    this.poweredAt = Date.now();
    this.helloDone = false;
    this.staged = {};
    this.lastRequest = undefined;
    this.image = this.store.load() ?? this.image;
    const epoch = this.powerEpoch;
    setTimeout(() => {
      if (epoch === this.powerEpoch) this.boot();
    }, bootDelayMs);
  }

  /**
   * Puts a different, blank board in this socket (continuous mode with virtual boards: the passed board is
   * unplugged and the next one goes in). Only while it has no power, as with a real board.
   */
  swapForBlankBoard(): void {
    if (this.powered) throw new Error('unplug the virtual board before swapping it for another');
    const { soc, builtInCloudPublicKey, firmwareVersion } = this.image.identity;
    this.image = createBlankBoardImage({
      soc,
      cloudPublicKey: Buffer.from(builtInCloudPublicKey, 'base64'),
      firmwareVersion,
    });
    this.store.write(this.image);
  }

  powerOff(): void {
    this.powerEpoch += 1;
    this.powered = false;
    this.booted = false;
    this.splitter.flush();
    this.queue = Promise.resolve();
  }

  /** Bytes from the station. Lines are handled one at a time, in order, like a firmware command loop. */
  receive(chunk: Uint8Array): void {
    // Until the firmware has booted nobody is reading the UART: bytes sent then are lost, as on real hardware.
    if (!this.powered || !this.booted) return;
    const epoch = this.powerEpoch;
    for (const line of this.splitter.push(chunk)) {
      this.queue = this.queue.then(() =>
        epoch === this.powerEpoch ? this.handleLine(line.text, line.truncated) : undefined,
      );
    }
  }

  private devicePrivateKey(): Buffer {
    return Buffer.from(this.image.identity.devicePrivateKey, 'base64');
  }

  private effectiveCloudPublicKey(): Buffer {
    return Buffer.from(
      this.image.credentials?.cloudPublicKey ?? this.image.identity.builtInCloudPublicKey,
      'base64',
    );
  }

  private log(level: 'inf' | 'wrn' | 'err' | 'dbg', message: string): void {
    const ms = Math.max(0, this.options.uptimeMs());
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor(ms / 60_000) % 60;
    const s = Math.floor(ms / 1000) % 60;
    const stamp = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')},000`;
    this.emit('output', `[${stamp}] <${level}> infuse_prov: ${message}\n`);
  }

  private boot(): void {
    this.booted = true;
    const { identity } = this.image;
    this.emit(
      'output',
      `*** Booting Infuse-IoT ${identity.firmwareVersion} (virtual ${identity.boardName}) ***\n`,
    );
    this.log('inf', `soc ${identity.soc} mcuId ${identity.mcuId} state ${this.state}`);
    // A board that boots silently (fault no-boot-event): the station only learns of it from HELLO_REQUIRED.
    if (!this.faults.take('no-boot-event', 'REBOOT'))
      this.emit(
        'output',
        encodeFrame({
          kind: 'event',
          name: 'boot',
          fields: { proto: String(PROTOCOL_VERSION), fw: identity.firmwareVersion },
        }),
      );
    this.emit('power-on');
    this.announceIfOnline();
  }

  private announceIfOnline(): void {
    const credentials = this.image.credentials;
    if (!credentials || !this.options.comesOnline) return;
    const announcement = {
      deviceId: credentials.deviceId,
      devicePrivateKey: this.devicePrivateKey(),
      cloudPublicKey: this.effectiveCloudPublicKey(),
    };
    void Promise.resolve()
      .then(() => this.options.comesOnline?.(announcement))
      .then(
        () => this.log('inf', `cloud uplink sent as ${credentials.deviceId}`),
        (error: unknown) =>
          this.log('wrn', `cloud uplink failed: ${error instanceof Error ? error.message : String(error)}`),
      );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  private async handleLine(text: string, truncated: boolean): Promise<void> {
    const decoded = this.acceptingBadCrc(decodeLine(text, 'board', truncated), text);
    if (decoded.type === 'log' || decoded.type === 'echo') {
      // Anything that is not a station frame is console input a real board would ignore.
      if (decoded.type === 'log' && decoded.text.trim() !== '') this.log('dbg', 'ignored non-frame input');
      return;
    }
    if (decoded.type === 'bad-frame') {
      const code: BoardErrorCode = decoded.reason === 'too-long' ? 'LINE_TOO_LONG' : 'BAD_FRAME';
      this.log('wrn', `rejected frame: ${decoded.reason}`);
      this.send({ kind: 'error', id: decoded.id ?? EVENT_FRAME_ID, code, fields: {} });
      return;
    }
    const request = decoded.frame;
    if (request.kind !== 'request') return;
    const epoch = this.powerEpoch;
    // A line lost on the wire (fault lose-request): the firmware never saw it.
    if ((COMMAND_NAMES as readonly string[]).includes(request.command)) {
      if (this.faults.take('lose-request', request.command as CommandName)) return;
    }

    // A retransmission (same id, same bytes) gets the reply already given, without acting twice.
    if (this.lastRequest && this.lastRequest.line === decoded.line && !this.actsAgain(request.command)) {
      this.log('dbg', `retransmission of ${request.command}, repeating reply`);
      await this.sleep(this.options.processingDelayMs);
      if (epoch === this.powerEpoch) this.deliver(request, this.lastRequest.reply);
      return;
    }

    const command = (COMMAND_NAMES as readonly string[]).includes(request.command)
      ? (request.command as CommandName)
      : undefined;
    if (command) this.log('inf', `${command} from station`);

    const unplug = command ? this.faults.take('unplug', command) : undefined;
    if (unplug && unplug.value !== 'after') {
      this.loseAllPower(`unplugged on ${command}`);
      return;
    }
    // A restart the station did not ask for (watchdog, brown-out): the port stays, RAM is gone.
    const selfRestart = command ? this.faults.take('reboot', command) : undefined;
    if (selfRestart && (selfRestart.value ?? 'before') === 'before') {
      this.restartBySelf(`watchdog reset on ${command}`);
      return;
    }
    const longError = command ? this.faults.take('long-error', command) : undefined;
    if (longError) {
      this.send({
        kind: 'error',
        id: request.id,
        code: 'E'.repeat(Number(longError.value ?? 200)),
        fields: {},
      });
      return;
    }
    if (command && this.faults.take('line-too-long', command)) {
      this.send({ kind: 'error', id: request.id, code: 'LINE_TOO_LONG', fields: {} });
      return;
    }
    const busy = command ? this.faults.take('busy', command) : undefined;
    if (busy) {
      await this.sleep(this.options.processingDelayMs);
      if (epoch !== this.powerEpoch) return;
      this.send({
        kind: 'error',
        id: request.id,
        code: 'BUSY',
        fields: { retryAfterMs: busy.value ?? '50' },
      });
      return;
    }

    await this.sleep(this.options.processingDelayMs);
    if (epoch !== this.powerEpoch) return;
    const reply = await this.execute(request, command, epoch);
    if (epoch !== this.powerEpoch || !reply) return;

    if (unplug) {
      this.loseAllPower(`unplugged after ${command}`);
      return;
    }
    if (selfRestart?.value === 'after') {
      this.restartBySelf(`watchdog reset after ${command}, before its reply`);
      return;
    }
    // BUSY is not cached: a retransmission after BUSY must be acted on, not answered BUSY again.
    if (!(reply.kind === 'error' && reply.code === 'BUSY')) this.lastRequest = { line: decoded.line, reply };
    this.deliver(request, reply);
    if (command === 'REBOOT' && reply.kind === 'ok') this.reboot();
    else if (selfRestart?.value === 'replied')
      this.restartBySelf(`watchdog reset after replying to ${command}`);
  }

  private restartBySelf(reason: string): void {
    this.log('err', reason);
    this.reboot();
  }

  /** Fault no-dedup: a board that acts again on a retransmission instead of repeating its reply. */
  private actsAgain(command: string): boolean {
    return (
      (COMMAND_NAMES as readonly string[]).includes(command) &&
      this.faults.take('no-dedup', command as CommandName) !== undefined
    );
  }

  /**
   * Fault accept-bad-crc: a board that skips its CRC check reads a request whose CRC is wrong as if it were right.
   * Anything else is passed through unchanged.
   */
  private acceptingBadCrc(
    decoded: ReturnType<typeof decodeLine>,
    text: string,
  ): ReturnType<typeof decodeLine> {
    if (decoded.type !== 'bad-frame' || decoded.reason !== 'crc-mismatch') return decoded;
    const body = text.slice(0, text.lastIndexOf(' *'));
    const fixed = decodeLine(`${body} *${crc32Hex(body)}`, 'board');
    if (fixed.type !== 'frame' || fixed.frame.kind !== 'request') return decoded;
    const command = fixed.frame.command;
    if (!(COMMAND_NAMES as readonly string[]).includes(command)) return decoded;
    return this.faults.take('accept-bad-crc', command as CommandName) ? fixed : decoded;
  }

  private loseAllPower(reason: string): void {
    this.log('err', reason);
    this.powerOff();
    this.emit('unplug');
  }

  private reboot(): void {
    const epoch = this.powerEpoch;
    // A board whose flash does not keep what COMMIT and LOCK wrote (fault forget-on-reboot).
    if (this.faults.take('forget-on-reboot', 'REBOOT'))
      this.store.write({ ...this.image, credentials: null, locked: false });
    // A board that takes long to boot (fault slow-boot): the station must wait for it, not give up.
    const slow = this.faults.take('slow-boot', 'REBOOT');
    // Give the reply time to leave the UART before the board goes quiet.
    setTimeout(() => {
      if (epoch === this.powerEpoch) this.powerOn(slow ? Number(slow.value ?? 1500) : undefined);
    }, 20);
  }

  /** Send a reply through the armed output faults. */
  private deliver(request: RequestFrame, reply: Reply): void {
    const command = request.command as CommandName;
    const epoch = this.powerEpoch;
    const drop = this.faults.take('drop-reply', command);
    if (drop) {
      this.log('wrn', `reply to ${command} lost (fault)`);
      return;
    }
    const delay = this.faults.take('delay-reply', command);
    const garbage = this.faults.take('garbage', command);
    const corrupt = this.faults.take('corrupt-crc', command);
    const stray = this.faults.take('stray-event', command);
    const longLog = this.faults.take('long-log', command);
    // A board that answers with another id (fault wrong-id): the station must not take it as the reply.
    const out =
      this.faults.take('wrong-id', command) && reply.kind !== 'event'
        ? { ...reply, id: reply.id ^ 0x8000 }
        : reply;
    const sendNow = () => {
      if (epoch !== this.powerEpoch) return;
      if (garbage) this.emit('output', noise(this.options.random(GARBAGE_BYTES)) + '\n');
      if (longLog) this.emit('output', `<inf> ${'x'.repeat(Number(longLog.value ?? 700))} end\n`);
      if (stray) {
        this.emit(
          'output',
          encodeFrame({ kind: 'event', name: stray.value ?? 'battery-low', fields: { level: '12' } }),
        );
      }
      if (corrupt) this.emit('output', corruptCrc(encodeFrame(out)));
      else this.send(out);
    };
    if (delay) setTimeout(sendNow, Number(delay.value ?? 3000));
    else sendNow();
  }

  private send(frame: Reply): void {
    this.emit('output', encodeFrame(frame));
  }

  private async execute(
    request: RequestFrame,
    command: CommandName | undefined,
    epoch: number,
  ): Promise<Reply | undefined> {
    const ok = (fields: FrameFields): Reply => {
      // A board that misreports its state (fault wrong-state), for the station's checks of what it is told.
      const wrong = command && 'state' in fields ? this.faults.take('wrong-state', command) : undefined;
      return {
        kind: 'ok',
        id: request.id,
        fields: wrong ? { ...fields, state: wrong.value ?? 'staged' } : fields,
      };
    };
    const err = (code: BoardErrorCode, fields: FrameFields = {}): Reply => ({
      kind: 'error',
      id: request.id,
      code,
      fields,
    });
    if (!command) return err('UNKNOWN_COMMAND');
    if (command !== 'HELLO' && !this.helloDone && !this.faults.take('no-hello-required', command))
      return err('HELLO_REQUIRED');
    const fields = request.fields;
    const unexpected = (allowed: string[]) => Object.keys(fields).find((key) => !allowed.includes(key));

    switch (command) {
      case 'HELLO': {
        const extra = unexpected(['proto']);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        const offered = (fields.proto ?? '')
          .split(',')
          .filter((v) => /^[1-9][0-9]{0,2}$/.test(v))
          .map(Number);
        if (offered.length === 0) return err('BAD_ARGUMENT', { field: 'proto' });
        const wrong = this.faults.take('wrong-version', command);
        if (!wrong && !offered.includes(PROTOCOL_VERSION)) {
          return err('UNSUPPORTED_VERSION', { supported: String(PROTOCOL_VERSION) });
        }
        this.helloDone = true;
        // A board that announces fewer commands or a smaller line limit (faults caps, max-line).
        const caps = this.faults.take('caps', command);
        const maxLine = this.faults.take('max-line', command);
        return ok({
          proto: wrong ? (wrong.value ?? '99') : String(PROTOCOL_VERSION),
          fw: this.image.identity.firmwareVersion,
          board: this.image.identity.boardName,
          caps: caps ? (caps.value ?? '').split('+').join(',') : VIRTUAL_BOARD_CAPABILITIES.join(','),
          maxLine: maxLine ? (maxLine.value ?? '256') : String(MAX_LINE_BYTES),
        });
      }
      case 'IDENTIFY': {
        const extra = unexpected([]);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        return ok({
          soc: this.image.identity.soc,
          mcuId: this.image.identity.mcuId,
          devicePublicKey: this.devicePublicKey.toString('base64'),
          deviceId: this.image.credentials?.deviceId ?? 'none',
          cloudPublicKey: this.effectiveCloudPublicKey().toString('base64'),
          state: this.state,
          networkId: String(this.image.credentials?.networkId ?? 0),
        });
      }
      case 'CHALLENGE': {
        const extra = unexpected(['challenge']);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        const challenge = base64Bytes(CHALLENGE_BYTES).safeParse(fields.challenge);
        if (!challenge.success) return err('BAD_ARGUMENT', { field: 'challenge' });
        const networkId = this.image.credentials?.networkId ?? 0;
        const state = sealChallengeResponse({
          devicePrivateKey: this.devicePrivateKey(),
          cloudPublicKey: this.effectiveCloudPublicKey(),
          networkId,
          challenge: challenge.data,
          hardwareId: hardwareIdFromMcuId(this.image.identity.mcuId),
          deviceId: this.image.credentials?.deviceId ?? UNPROVISIONED_DEVICE_ID,
          nonce: this.options.random(AEAD_NONCE_BYTES),
        });
        // A board that seals its response wrongly (fault bad-response): its tag no longer checks.
        if (this.faults.take('bad-response', command)) {
          const sealed = state.challengeResponse;
          sealed.writeUInt8(sealed.readUInt8(sealed.length - 1) ^ 0xff, sealed.length - 1);
        }
        return ok({
          type: String(state.challengeResponseType),
          networkId: String(networkId),
          cloudPublicKey: state.cloudPublicKey.toString('base64'),
          devicePublicKey: state.devicePublicKey.toString('base64'),
          response: state.challengeResponse.toString('base64'),
        });
      }
      case 'WRITE':
        return this.write(fields, ok, err);
      case 'COMMIT': {
        const extra = unexpected([]);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        if (this.image.locked) return err('LOCKED');
        const current = this.image.credentials;
        if (Object.keys(this.staged).length === 0) {
          return current
            ? ok({ state: this.state, deviceId: current.deviceId, changed: '0' })
            : err('INCOMPLETE', { field: 'deviceId' });
        }
        const merged = mergeCredentials(current, this.staged);
        const missing = missingCredential(merged);
        if (missing) return err('INCOMPLETE', { field: missing });
        const image: FlashImage = { ...this.image, credentials: merged as StoredCredentials };
        const written = await this.writeFlash(command, image, epoch);
        if (written !== true) return written === 'lost-power' ? undefined : err('STORAGE');
        this.staged = {};
        this.log('inf', `committed credentials for ${merged.deviceId}`);
        this.announceIfOnline();
        // A board that misreports what COMMIT did (fault commit-unchanged).
        const changed = this.faults.take('commit-unchanged', command) ? '0' : '1';
        return ok({ state: this.state, deviceId: merged.deviceId as string, changed });
      }
      case 'READBACK': {
        const extra = unexpected([]);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        const c = this.image.credentials;
        const out: FrameFields = { state: this.state, deviceId: c?.deviceId ?? 'none' };
        if (c?.networkId !== undefined) out.networkId = String(c.networkId);
        if (c?.networkKey !== undefined)
          out.networkKeyFp = secretFingerprint(Buffer.from(c.networkKey, 'base64'));
        out.cloudPublicKey = this.effectiveCloudPublicKey().toString('base64');
        if (c?.mqttToken !== undefined) out.mqttTokenFp = secretFingerprint(c.mqttToken);
        if (c?.mqttTokenExpiresAt !== undefined) out.mqttTokenExpiresAt = c.mqttTokenExpiresAt;
        if (c?.derivedKey !== undefined)
          out.derivedKeyFp = secretFingerprint(Buffer.from(c.derivedKey, 'base64'));
        if (c?.derivedKeyInterface !== undefined) out.derivedKeyInterface = c.derivedKeyInterface;
        const staged = WRITABLE_FIELDS.filter((f) => this.staged[f] !== undefined);
        if (staged.length > 0) out.staged = staged.join(',');
        return ok(out);
      }
      case 'VERIFY': {
        const extra = unexpected(['nonce', 'key', 'gpsDay']);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        const nonce = base64Bytes(VERIFY_NONCE_BYTES).safeParse(fields.nonce);
        if (!nonce.success) return err('BAD_ARGUMENT', { field: 'nonce' });
        const keyName = fields.key;
        const isInterface = keyInterfaceText.safeParse(keyName);
        if (keyName !== 'sign' && !isInterface.success) return err('BAD_ARGUMENT', { field: 'key' });
        const gpsDay = fields.gpsDay;
        if (isInterface.success && (gpsDay === undefined || !/^(?:0|[1-9][0-9]{0,9})$/.test(gpsDay))) {
          return err('BAD_ARGUMENT', { field: 'gpsDay' });
        }
        const c = this.image.credentials;
        if (!c) return err('NOT_PROVISIONED');
        const cloudPublicKey = this.effectiveCloudPublicKey();
        const shared = x25519SharedSecret(this.devicePrivateKey(), cloudPublicKey);
        const key = isInterface.success
          ? deriveInterfaceKey(shared, isInterface.data as KeyInterface, Number(gpsDay))
          : deriveSignKey(shared);
        const mac = verifyProof(key, nonce.data, c.deviceId);
        // A board whose MAC is not the key's (fault bad-mac): what VERIFY exists to catch.
        if (this.faults.take('bad-mac', command)) mac.writeUInt8(mac.readUInt8(0) ^ 0xff, 0);
        shared.fill(0);
        key.fill(0);
        return ok({
          mac: mac.toString('base64'),
          deviceId: c.deviceId,
          keyId: deviceKeyId(cloudPublicKey, this.devicePublicKey).toString(16).padStart(6, '0'),
        });
      }
      case 'LOCK': {
        const extra = unexpected(['deviceId']);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        const c = this.image.credentials;
        if (!c) return err('NOT_PROVISIONED');
        if (fields.deviceId !== c.deviceId) return err('BAD_ARGUMENT', { field: 'deviceId' });
        if (this.image.locked) return ok({ state: 'locked' });
        // A board that says it locked and did not (fault lock-ignored).
        if (this.faults.take('lock-ignored', command)) return ok({ state: 'locked' });
        const written = await this.writeFlash(command, { ...this.image, locked: true }, epoch);
        if (written !== true) return written === 'lost-power' ? undefined : err('STORAGE');
        this.staged = {};
        this.log('inf', 'provisioning locked');
        return ok({ state: 'locked' });
      }
      case 'REBOOT': {
        const extra = unexpected([]);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        this.log('inf', 'rebooting');
        return ok({});
      }
      case 'FACTORY-RESET': {
        const extra = unexpected(['mcuId', 'confirm']);
        if (extra) return err('BAD_ARGUMENT', { field: extra });
        if (this.image.locked) return err('LOCKED');
        if (fields.mcuId !== this.image.identity.mcuId) return err('BAD_ARGUMENT', { field: 'mcuId' });
        if (fields.confirm !== 'ERASE') return err('BAD_ARGUMENT', { field: 'confirm' });
        // A board that says it erased and did not (fault reset-keeps).
        if (this.faults.take('reset-keeps', command)) return ok({ state: 'blank' });
        const written = await this.writeFlash(command, { ...this.image, credentials: null }, epoch);
        if (written !== true) return written === 'lost-power' ? undefined : err('STORAGE');
        this.staged = {};
        this.log('wrn', 'credentials erased');
        return ok({ state: 'blank' });
      }
    }
  }

  /** WRITE, checking in the order of PROTOCOL.md 7.1: fields, values, state, what the state allows, the held id. */
  private write(
    fields: FrameFields,
    ok: (fields: FrameFields) => Reply,
    err: (code: BoardErrorCode, fields?: FrameFields) => Reply,
  ): Reply {
    const names = Object.keys(fields);
    if (names.length === 0) return err('BAD_ARGUMENT', { field: 'none' });
    const unknown = names.find(
      (name) => name !== 'append' && !(WRITABLE_FIELDS as readonly string[]).includes(name),
    );
    if (unknown) return err('BAD_ARGUMENT', { field: unknown });
    const append = fields.append;
    if (append !== undefined && (append !== '1' || names.length !== 2 || fields.mqttToken === undefined))
      return err('BAD_ARGUMENT', { field: 'append' });
    const malformed = (names.filter((name) => name !== 'append') as WritableField[]).find(
      (field) => !writableValueIsValid(field, fields[field] as string),
    );
    if (malformed) return err('BAD_ARGUMENT', { field: malformed });
    if (this.image.locked) return err('LOCKED');
    // append=1 continues a staged token: with none staged there is nothing to append to (PROTOCOL.md 5.4).
    if (append === '1' && this.staged.mqttToken === undefined)
      return err('BAD_ARGUMENT', { field: 'append' });
    const next: Staged = { ...this.staged };
    if (append === '1') {
      const combined = (next.mqttToken ?? '') + (fields.mqttToken as string);
      if (combined.length > MAX_MQTT_TOKEN_CHARS) return err('BAD_ARGUMENT', { field: 'mqttToken' });
      next.mqttToken = combined;
    } else {
      for (const field of names as WritableField[]) next[field] = fields[field] as string;
    }
    const held = this.image.credentials?.deviceId;
    if (fields.deviceId !== undefined && held !== undefined && held !== fields.deviceId)
      return err('ALREADY_PROVISIONED', { deviceId: held });
    this.staged = next;
    return ok({ staged: WRITABLE_FIELDS.filter((f) => next[f] !== undefined).join(','), state: this.state });
  }

  /** true when written; 'failed' on a storage fault; 'lost-power' if the board lost power meanwhile. */
  private async writeFlash(
    command: CommandName,
    image: FlashImage,
    epoch: number,
  ): Promise<true | 'failed' | 'lost-power'> {
    await this.sleep(this.options.flashWriteDelayMs);
    if (epoch !== this.powerEpoch) return 'lost-power';
    if (this.faults.take('storage-fail', command)) {
      this.log('err', 'flash write failed (fault): credentials unchanged');
      return 'failed';
    }
    try {
      this.store.write(image);
    } catch (error) {
      this.log('err', `flash write failed: ${error instanceof Error ? error.message : String(error)}`);
      return 'failed';
    }
    this.image = image;
    return true;
  }
}

function writableValueIsValid(field: WritableField, value: string): boolean {
  switch (field) {
    case 'deviceId':
      return deviceIdText.safeParse(value).success;
    case 'networkId':
      return /^(?:0|[1-9][0-9]{0,7})$/.test(value) && Number(value) <= MAX_NETWORK_ID;
    case 'networkKey':
    case 'cloudPublicKey':
    case 'derivedKey':
      return base64Bytes(32).safeParse(value).success;
    case 'mqttToken':
      return value.length > 0 && value.length <= MAX_MQTT_TOKEN_CHARS;
    case 'mqttTokenExpiresAt':
      return isoUtcText.safeParse(value).success;
    case 'derivedKeyInterface':
      return keyInterfaceText.safeParse(value).success;
  }
}

type MergedCredentials = Partial<Record<keyof StoredCredentials, string | number>>;

function mergeCredentials(current: StoredCredentials | null, staged: Staged): MergedCredentials {
  const merged: MergedCredentials = { ...(current ?? {}) };
  for (const field of WRITABLE_FIELDS) {
    const value = staged[field];
    if (value === undefined) continue;
    merged[field] = field === 'networkId' ? Number(value) : value;
  }
  return merged;
}

function missingCredential(merged: MergedCredentials): WritableField | undefined {
  if (merged.deviceId === undefined) return 'deviceId';
  if (merged.networkKey !== undefined && merged.networkId === undefined) return 'networkId';
  if (merged.networkId !== undefined && merged.networkKey === undefined) return 'networkKey';
  if (merged.mqttToken !== undefined && merged.mqttTokenExpiresAt === undefined) return 'mqttTokenExpiresAt';
  if (merged.derivedKey !== undefined && merged.derivedKeyInterface === undefined)
    return 'derivedKeyInterface';
  return undefined;
}

/** Printable-and-not line noise that never contains a newline or a frame marker. */
function noise(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const c = byte & 0x7f;
    out += c === 0x0a || c === 0x0d || c === 0x7e ? '?' : String.fromCharCode(c);
  }
  return out;
}

function corruptCrc(line: string): string {
  const at = line.lastIndexOf('*') + 1;
  const digit = line[at] === '0' ? '1' : '0';
  return line.slice(0, at) + digit + line.slice(at + 1);
}
