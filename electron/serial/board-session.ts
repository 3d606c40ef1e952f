/**
 * The protocol's commands as typed calls over one SerialLink: each reply is checked against the command's schema,
 * so the rest of the station only ever sees well-formed values.
 */
import type { z } from 'zod';
import {
  CHALLENGE_BYTES,
  SUPPORTED_PROTOCOL_VERSIONS,
  VERIFY_NONCE_BYTES,
  challengeReply,
  commitReply,
  factoryResetReply,
  helloReply,
  identifyReply,
  lockReply,
  readbackReply,
  rebootReply,
  verifyReply,
  writeReply,
  type CommandName,
  type CommitReply,
  type FrameFields,
  type HelloReply,
  type IdentifyReply,
  type KeyInterface,
  type ReadbackReply,
  type SecurityStateBytes,
  type VerifyReply,
  type WritableField,
  type WriteReply,
} from '../../firmware-protocol';
import { SerialLinkError } from './errors';
import type { SerialLink } from './serial-link';

export type BoardHello = HelloReply;
export type BoardIdentity = IdentifyReply;

/** What `station board identify` prints and what the workflow's identify step records. */
export interface BoardIdentityReport {
  soc: string;
  mcuId: string;
  devicePublicKey: string;
  deviceId: string | null;
  firmwareVersion: string;
  protocolVersion: number;
  cloudPublicKey: string;
  boardName: string;
  state: string;
  networkId: number;
  capabilities: string[];
}

export type CredentialWrite = Partial<Record<WritableField, string>>;

/** Room in one WRITE line for an MQTT token chunk after the frame's own overhead. */
export const TOKEN_CHUNK_CHARS = 384;

/** Longest a board may take from REBOOT (or a restart) to its boot event (PROTOCOL.md 4.3). */
export const MAX_BOOT_MS = 5000;

/** How many restarts of the board one call lives through (HELLO again, send again) before it gives up. */
const RESTARTS_PER_CALL = 2;

/**
 * Commands that are sent again, unchanged, after the board restarted in the middle of them: they read, or they
 * are idempotent (LOCK of the same device id). WRITE and COMMIT are not: the staged fields died with the restart,
 * so the caller decides from what the board kept (PROTOCOL.md 3.2).
 */
const RESENT_AFTER_RESTART: ReadonlySet<CommandName> = new Set([
  'HELLO',
  'IDENTIFY',
  'CHALLENGE',
  'READBACK',
  'VERIFY',
  'LOCK',
]);

/** The board restarted while the station talked to it (code REBOOTED); anything it had staged is gone. */
export function isBoardRestart(error: unknown): error is SerialLinkError {
  return error instanceof SerialLinkError && error.code === 'REBOOTED';
}

/** How a REBOOT ended, for the record: a lost reply is settled by the boot event or by asking the board. */
export interface RebootReport {
  replyLost: boolean;
  /** `boot-event`: the board announced its boot; `hello-required`: its boot event was lost, it asked for HELLO. */
  settledBy: 'boot-event' | 'hello-required';
  /** REBOOT requests sent: 2 when the first never reached the board. */
  requests: number;
  bootMs: number;
}

export class BoardSession {
  /** Restarts known without a boot event (the board answered HELLO_REQUIRED). */
  private unheardBoots = 0;
  /** The boot the last HELLO was made in; a command in a later boot needs HELLO again first. */
  private helloBoot: number | undefined;
  /** The boot in which fields were staged and not yet committed. */
  private stagedBoot: number | undefined;
  /** Restarts the board made by itself while the session was open (not the REBOOTs the station asked for). */
  unexpectedRestarts = 0;

  constructor(readonly link: SerialLink) {}

  /** Which boot of the board the station is talking to now. */
  private get boot(): number {
    return this.link.bootCount + this.unheardBoots;
  }

  private parse<S extends z.ZodType>(command: CommandName, schema: S, fields: FrameFields): z.output<S> {
    const parsed = schema.safeParse(fields);
    if (parsed.success) return parsed.data;
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(reply)').join(', ');
    throw new SerialLinkError(
      'BAD_REPLY',
      `The board sent a malformed ${command} reply (bad ${where}): the firmware does not follow the station protocol; report it to the firmware team.`,
      { port: this.link.path, command, retrySafe: true },
    );
  }

  private restarted(command: CommandName, what: string): SerialLinkError {
    return new SerialLinkError(
      'REBOOTED',
      `The board restarted ${what} ${command}: check its power supply and that its firmware is not resetting itself (watchdog), then retry.`,
      { port: this.link.path, command, retrySafe: true },
    );
  }

  /**
   * One command, living through restarts of the board (PROTOCOL.md 3.2, 3.3): a boot event or HELLO_REQUIRED
   * means the board lost its session, so HELLO again; then a reading command is sent again, while WRITE and COMMIT
   * end with REBOOTED because what was staged is gone.
   */
  private async call<S extends z.ZodType>(
    command: CommandName,
    schema: S,
    fields: FrameFields = {},
  ): Promise<z.output<S>> {
    for (let restarts = 0; ;) {
      if (command !== 'HELLO' && this.helloBoot !== undefined && this.helloBoot !== this.boot) {
        this.unexpectedRestarts += 1;
        await this.hello();
      }
      const staging = command === 'WRITE' || command === 'COMMIT';
      if (staging && this.stagedBoot !== undefined && this.stagedBoot !== this.boot) {
        // Told once; the caller's next WRITE starts staging afresh.
        this.stagedBoot = undefined;
        throw this.restarted(command, 'and lost the fields staged for');
      }
      let reply: z.output<S>;
      try {
        reply = this.parse(command, schema, await this.link.request(command, fields));
      } catch (error) {
        const helloRequired =
          error instanceof SerialLinkError &&
          error.boardCode === 'HELLO_REQUIRED' &&
          command !== 'HELLO' &&
          this.helloBoot !== undefined;
        if (!isBoardRestart(error) && !helloRequired) throw error;
        // A board that asks for HELLO again has restarted, even if its boot event was lost on the way.
        if (helloRequired && this.helloBoot === this.boot) this.unheardBoots += 1;
        restarts += 1;
        if (restarts > RESTARTS_PER_CALL) {
          throw new SerialLinkError(
            'REBOOTED',
            `The board restarted ${restarts} times during ${command}: it keeps resetting (power, brown-out or a watchdog); set it aside for the firmware team.`,
            { port: this.link.path, command, retrySafe: true },
          );
        }
        if (!RESENT_AFTER_RESTART.has(command)) {
          if (staging) this.stagedBoot = undefined;
          throw this.restarted(command, 'during');
        }
        continue;
      }
      if (command === 'HELLO') this.helloBoot = this.boot;
      if (command === 'WRITE') this.stagedBoot ??= this.boot;
      if (command === 'COMMIT' || command === 'LOCK') this.stagedBoot = undefined;
      return reply;
    }
  }

  /** HELLO: agree on the protocol version. Fails with PROTOCOL_MISMATCH when the board speaks another one. */
  async hello(): Promise<BoardHello> {
    let reply: BoardHello;
    try {
      reply = await this.call('HELLO', helloReply, { proto: SUPPORTED_PROTOCOL_VERSIONS.join(',') });
    } catch (error) {
      if (error instanceof SerialLinkError && error.boardCode === 'UNSUPPORTED_VERSION') {
        throw this.mismatch(error.boardFields.supported ?? 'unknown');
      }
      throw error;
    }
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(reply.proto)) throw this.mismatch(String(reply.proto));
    return reply;
  }

  private mismatch(boardVersions: string): SerialLinkError {
    return new SerialLinkError(
      'PROTOCOL_MISMATCH',
      `The board speaks station protocol version ${boardVersions}, but this station speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}: flash a firmware the recipe allows, or update the station.`,
      { port: this.link.path, command: 'HELLO', retrySafe: false },
    );
  }

  identify(): Promise<BoardIdentity> {
    return this.call('IDENTIFY', identifyReply);
  }

  /** HELLO then IDENTIFY, as one report. */
  async identifyReport(): Promise<BoardIdentityReport> {
    const hello = await this.hello();
    const identity = await this.identify();
    return {
      soc: identity.soc,
      mcuId: identity.mcuId,
      devicePublicKey: identity.devicePublicKey.toString('base64'),
      deviceId: identity.deviceId,
      firmwareVersion: hello.fw,
      protocolVersion: hello.proto,
      cloudPublicKey: identity.cloudPublicKey.toString('base64'),
      boardName: hello.board,
      state: identity.state,
      networkId: identity.networkId,
      capabilities: hello.caps,
    };
  }

  /** CHALLENGE: the board's security state answering `challenge`, ready for the backend's key endpoints. */
  async challenge(challenge: Buffer): Promise<SecurityStateBytes> {
    if (challenge.length !== CHALLENGE_BYTES) throw new RangeError(`a challenge is ${CHALLENGE_BYTES} bytes`);
    const reply = await this.call('CHALLENGE', challengeReply, { challenge: challenge.toString('base64') });
    return {
      cloudPublicKey: reply.cloudPublicKey,
      devicePublicKey: reply.devicePublicKey,
      networkId: reply.networkId,
      challenge,
      challengeResponseType: reply.type,
      challengeResponse: Buffer.from(reply.response, 'base64'),
    };
  }

  /**
   * WRITE: stage credential fields. A long MQTT token goes in chunks (`append=1`) so no line passes the limit;
   * everything else goes in one frame.
   */
  async write(fields: CredentialWrite): Promise<WriteReply> {
    const { mqttToken, ...rest } = fields;
    let reply: WriteReply | undefined;
    const plain = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as FrameFields;
    if (Object.keys(plain).length > 0) reply = await this.call('WRITE', writeReply, plain);
    if (mqttToken !== undefined) {
      for (let at = 0; at < mqttToken.length || at === 0; at += TOKEN_CHUNK_CHARS) {
        const chunk = mqttToken.slice(at, at + TOKEN_CHUNK_CHARS);
        reply = await this.call(
          'WRITE',
          writeReply,
          at === 0 ? { mqttToken: chunk } : { mqttToken: chunk, append: '1' },
        );
      }
    }
    if (!reply) throw new RangeError('WRITE needs at least one field');
    return reply;
  }

  commit(): Promise<CommitReply> {
    return this.call('COMMIT', commitReply);
  }

  readback(): Promise<ReadbackReply> {
    return this.call('READBACK', readbackReply);
  }

  /** VERIFY: the board's MAC over `nonce` and its device id with the named key. */
  verify(nonce: Buffer, key: 'sign' | KeyInterface, gpsDay?: number): Promise<VerifyReply> {
    if (nonce.length !== VERIFY_NONCE_BYTES)
      throw new RangeError(`a verify nonce is ${VERIFY_NONCE_BYTES} bytes`);
    const fields: FrameFields = { nonce: nonce.toString('base64'), key };
    if (key !== 'sign') {
      if (gpsDay === undefined) throw new RangeError('interface keys need the GPS day that salts them');
      fields.gpsDay = String(gpsDay);
    }
    return this.call('VERIFY', verifyReply, fields);
  }

  lock(deviceId: string): Promise<z.output<typeof lockReply>> {
    return this.call('LOCK', lockReply, { deviceId });
  }

  /**
   * REBOOT, then the board's boot event (PROTOCOL.md 4.2). A boot event that arrives after the request counts,
   * reply or not. When neither the reply nor the boot event came, the board is asked: a board that restarted
   * answers HELLO_REQUIRED; one that answers normally never got the REBOOT, which is then sent once more.
   * HELLO is needed again afterwards.
   */
  async reboot(): Promise<RebootReport> {
    const startedAt = Date.now();
    let replyLost = false;
    for (let requests = 1; requests <= 2; requests += 1) {
      const bootBefore = this.link.bootCount;
      const booted = this.waitForBootAfter(bootBefore, MAX_BOOT_MS);
      let replied = false;
      try {
        this.parse('REBOOT', rebootReply, await this.link.request('REBOOT'));
        replied = true;
      } catch (error) {
        const lost =
          isBoardRestart(error) ||
          (error instanceof SerialLinkError && (error.code === 'TIMEOUT' || error.code === 'GARBLED'));
        if (!lost) {
          booted.cancel();
          throw error;
        }
        replyLost = true;
      }
      const heard = await booted.done;
      this.helloBoot = undefined;
      this.stagedBoot = undefined;
      if (heard) return { replyLost, settledBy: 'boot-event', requests, bootMs: Date.now() - startedAt };
      if (await this.askedForHello()) {
        this.unheardBoots += 1;
        return { replyLost, settledBy: 'hello-required', requests, bootMs: Date.now() - startedAt };
      }
      if (replied) {
        throw new SerialLinkError(
          'TIMEOUT',
          `The board answered REBOOT but did not restart within ${MAX_BOOT_MS} ms: power-cycle it and retry; if it happens again its firmware does not follow the station protocol.`,
          { port: this.link.path, command: 'REBOOT', retrySafe: true },
        );
      }
      // Neither reply nor restart: the REBOOT never reached the board. It is a new request, so a new id.
    }
    throw new SerialLinkError(
      'TIMEOUT',
      `The board did not answer REBOOT twice and did not restart: reseat the cable, check the board is powered, then retry.`,
      { port: this.link.path, command: 'REBOOT', retrySafe: true },
    );
  }

  /** After a silent REBOOT: does the board still hold the station's HELLO? READBACK asks without changing anything. */
  private async askedForHello(): Promise<boolean> {
    try {
      await this.link.request('READBACK');
      return false;
    } catch (error) {
      if (isBoardRestart(error)) return true;
      if (error instanceof SerialLinkError && error.boardCode === 'HELLO_REQUIRED') return true;
      throw error;
    }
  }

  /** Resolves true when the link has seen a boot beyond `bootBefore`, false after `timeoutMs` or `cancel()`. */
  private waitForBootAfter(
    bootBefore: number,
    timeoutMs: number,
  ): { done: Promise<boolean>; cancel: () => void } {
    let resolve: (heard: boolean) => void = () => undefined;
    const promise = new Promise<boolean>((settle) => (resolve = settle));
    const finish = (heard: boolean) => {
      clearTimeout(timer);
      this.link.off('event', onEvent);
      resolve(heard);
    };
    const onEvent = () => {
      if (this.link.bootCount > bootBefore) finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    this.link.on('event', onEvent);
    if (this.link.bootCount > bootBefore) finish(true);
    return { done: promise, cancel: () => finish(false) };
  }

  factoryReset(mcuId: string): Promise<z.output<typeof factoryResetReply>> {
    return this.call('FACTORY-RESET', factoryResetReply, { mcuId, confirm: 'ERASE' });
  }
}
