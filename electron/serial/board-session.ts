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
  bootEvent,
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

export class BoardSession {
  constructor(readonly link: SerialLink) {}

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

  private async call<S extends z.ZodType>(
    command: CommandName,
    schema: S,
    fields: FrameFields = {},
  ): Promise<z.output<S>> {
    return this.parse(command, schema, await this.link.request(command, fields));
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

  /** REBOOT, then wait for the board's boot event. HELLO is needed again afterwards. */
  async reboot(bootTimeoutMs = 10_000): Promise<void> {
    // Listen from before the request (the boot event may follow the reply at once), but only count boot events
    // that arrive after the reply: an earlier one is a previous boot, not this reboot.
    let replied = false;
    const booted = this.waitForBoot(bootTimeoutMs, () => replied);
    booted.catch(() => undefined);
    await this.call('REBOOT', rebootReply);
    replied = true;
    await booted;
  }

  factoryReset(mcuId: string): Promise<z.output<typeof factoryResetReply>> {
    return this.call('FACTORY-RESET', factoryResetReply, { mcuId, confirm: 'ERASE' });
  }

  /** Resolves on the next `EVT boot` from the board. */
  waitForBoot(timeoutMs: number, accept: () => boolean = () => true): Promise<z.output<typeof bootEvent>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.link.off('event', onEvent);
        reject(
          new SerialLinkError(
            'TIMEOUT',
            `The board did not boot within ${timeoutMs} ms after REBOOT: power-cycle it and retry.`,
            { port: this.link.path, command: 'REBOOT', retrySafe: true },
          ),
        );
      }, timeoutMs);
      const onEvent = (event: { name: string; fields: FrameFields }) => {
        if (event.name !== 'boot' || !accept()) return;
        const parsed = bootEvent.safeParse(event.fields);
        if (!parsed.success) return;
        clearTimeout(timer);
        this.link.off('event', onEvent);
        resolve(parsed.data);
      };
      this.link.on('event', onEvent);
    });
  }
}
