/**
 * The two plugs the steps talk through (OpenHTF's plugs): a board port and a cloud port. Steps never see a serial
 * link or an HTTP client, so a test can plug in an in-memory virtual board, and the batch's limit on concurrent
 * backend calls lives in the cloud port instead of in every step.
 */
import type { Device, DeviceState, MqttToken, NewDevice, BackendResult, SecretBytes } from '../backend';
import type { BoardHello, BoardIdentity, BoardLogLine, CredentialWrite, RebootReport } from '../serial';
import type {
  CommitReply,
  KeyInterface,
  ReadbackReply,
  SecurityStateBytes,
  VerifyReply,
  WriteReply,
} from '../../firmware-protocol';

/** One board on one port. `open` is the connect step's first act; the workflow closes it when the unit ends. */
export interface BoardPort {
  readonly path: string;
  open(): Promise<void>;
  hello(): Promise<BoardHello>;
  identify(): Promise<BoardIdentity>;
  challenge(challenge: Buffer): Promise<SecurityStateBytes>;
  write(fields: CredentialWrite): Promise<WriteReply>;
  commit(): Promise<CommitReply>;
  readback(): Promise<ReadbackReply>;
  verify(nonce: Buffer, key: 'sign' | KeyInterface, gpsDay?: number): Promise<VerifyReply>;
  lock(deviceId: string): Promise<unknown>;
  /** REBOOT and wait for the board's boot event (a lost reply is settled); HELLO is needed again afterwards. */
  reboot(): Promise<RebootReport>;
  /** Restarts the board made by itself since the port opened (the session said HELLO again and carried on). */
  readonly restartCount: number;
  /** The board's own output lines while the port is open; returns the unsubscribe function. */
  onLog(listener: (line: BoardLogLine) => void): () => void;
  close(): Promise<void>;
}

/**
 * The backend as the steps need it. Calls resolve to the value or reject with a BackendError, except createDevice
 * whose conflict (409) the device-record step handles itself.
 */
export interface CloudPort {
  findDevice(soc: string, cloudMcuId: string): Promise<Device | null>;
  createDevice(body: NewDevice): Promise<BackendResult<Device>>;
  /** The cloud's public key, fetched once per batch. */
  cloudPublicKey(): Promise<Buffer>;
  deriveDeviceKey(
    deviceId: string,
    keyInterface: KeyInterface,
    state: SecurityStateBytes,
  ): Promise<SecretBytes>;
  deviceSharedSecret(deviceId: string, state: SecurityStateBytes): Promise<SecretBytes>;
  mqttToken(ttlSeconds: number): Promise<MqttToken>;
  deviceState(deviceId: string): Promise<DeviceState | null>;
}

/** What the station's record says it provisioned on a board: what a locked board seen again is checked against. */
export interface ProvisionedRecord {
  unitId: string;
  deviceId: string;
  passedAt: string | null;
  devicePublicKey: string | null;
  /** The write-credentials step's recorded values: device id, cloud key, network id and the secrets' fingerprints. */
  written: Record<string, string | number | boolean | null | string[]>;
}

/** The station's own record of earlier units, read-only. */
export interface ProvisioningRecords {
  lastPassed(soc: string, mcuId: string): ProvisionedRecord | null;
}
