/**
 * The sandbox's state in SQLite: a file when the sandbox should remember (same API key, cloud key and devices
 * across restarts), ':memory:' otherwise. Rows keep insertion order so limit/offset paging is stable.
 */
import Database from 'better-sqlite3';

export interface OrganisationRow {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface BoardRow {
  id: string;
  name: string;
  description: string;
  soc: string;
  organisationId: string;
  public: boolean;
  metadataFields: unknown[];
  createdAt: string;
  updatedAt: string;
}

export interface NetworkRow {
  id: string;
  name: string;
  description: string;
  /** base64 of the 32-byte key: this is a sandbox, so its network keys live in its own data file. */
  key: string;
  organisationId: string;
  networkId: number;
  public: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface DeviceRow {
  id: string;
  deviceId: string;
  mcuId: string;
  soc: string;
  boardId: string;
  organisationId: string;
  metadata: Record<string, string>;
  initialDeviceState: unknown;
  /** base64; bound by the first valid security state (or uplink) and checked on every later one. */
  devicePublicKey: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SeenRow {
  deviceId: string;
  firstSeenAt: string;
  lastSeenAt: string;
  address: string;
  sequence: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS organisations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS boards (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT NOT NULL,
  soc TEXT NOT NULL, organisation_id TEXT NOT NULL, public INTEGER NOT NULL, metadata_fields TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (organisation_id, name));
CREATE TABLE IF NOT EXISTS networks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
  key TEXT NOT NULL, organisation_id TEXT NOT NULL, network_id INTEGER NOT NULL UNIQUE, public INTEGER NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL UNIQUE,
  mcu_id TEXT NOT NULL, soc TEXT NOT NULL, board_id TEXT NOT NULL, organisation_id TEXT NOT NULL,
  metadata TEXT NOT NULL, initial_state TEXT, device_public_key TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (soc, mcu_id));
CREATE TABLE IF NOT EXISTS security_states (
  device_id TEXT PRIMARY KEY, state TEXT NOT NULL, stored_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS device_seen (
  device_id TEXT PRIMARY KEY, first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, address TEXT NOT NULL,
  sequence INTEGER NOT NULL);
`;

type Row = Record<string, unknown>;

const str = (row: Row, key: string): string => String(row[key]);

function organisationFrom(row: Row): OrganisationRow {
  return {
    id: str(row, 'id'),
    name: str(row, 'name'),
    createdAt: str(row, 'created_at'),
    updatedAt: str(row, 'updated_at'),
  };
}

function boardFrom(row: Row): BoardRow {
  return {
    id: str(row, 'id'),
    name: str(row, 'name'),
    description: str(row, 'description'),
    soc: str(row, 'soc'),
    organisationId: str(row, 'organisation_id'),
    public: row.public === 1,
    metadataFields: JSON.parse(str(row, 'metadata_fields')) as unknown[],
    createdAt: str(row, 'created_at'),
    updatedAt: str(row, 'updated_at'),
  };
}

function networkFrom(row: Row): NetworkRow {
  return {
    id: str(row, 'id'),
    name: str(row, 'name'),
    description: str(row, 'description'),
    key: str(row, 'key'),
    organisationId: str(row, 'organisation_id'),
    networkId: Number(row.network_id),
    public: row.public === 1,
    createdAt: str(row, 'created_at'),
    updatedAt: str(row, 'updated_at'),
  };
}

function deviceFrom(row: Row): DeviceRow {
  return {
    id: str(row, 'id'),
    deviceId: str(row, 'device_id'),
    mcuId: str(row, 'mcu_id'),
    soc: str(row, 'soc'),
    boardId: str(row, 'board_id'),
    organisationId: str(row, 'organisation_id'),
    metadata: JSON.parse(str(row, 'metadata')) as Record<string, string>,
    initialDeviceState:
      row.initial_state === null ? undefined : (JSON.parse(str(row, 'initial_state')) as unknown),
    devicePublicKey: row.device_public_key === null ? null : str(row, 'device_public_key'),
    createdAt: str(row, 'created_at'),
    updatedAt: str(row, 'updated_at'),
  };
}

export class SandboxStore {
  readonly #db: Database.Database;

  constructor(file: string = ':memory:') {
    this.#db = new Database(file);
    if (file !== ':memory:') this.#db.pragma('journal_mode = WAL');
    this.#db.exec(SCHEMA);
  }

  close(): void {
    this.#db.close();
  }

  getMeta(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
    return row ? str(row, 'value') : undefined;
  }

  setMeta(key: string, value: string): void {
    this.#db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** Value already stored under `key`, or `make()` stored and returned: first start decides, later starts reuse. */
  metaOrInit(key: string, make: () => string): string {
    const existing = this.getMeta(key);
    if (existing !== undefined) return existing;
    const value = make();
    this.setMeta(key, value);
    return value;
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  // organisations

  insertOrganisation(row: OrganisationRow): void {
    this.#db
      .prepare('INSERT INTO organisations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run(row.id, row.name, row.createdAt, row.updatedAt);
  }

  organisationById(id: string): OrganisationRow | undefined {
    const row = this.#db.prepare('SELECT * FROM organisations WHERE id = ?').get(id) as Row | undefined;
    return row && organisationFrom(row);
  }

  organisationByName(name: string): OrganisationRow | undefined {
    const row = this.#db.prepare('SELECT * FROM organisations WHERE name = ?').get(name) as Row | undefined;
    return row && organisationFrom(row);
  }

  listOrganisations(limit: number, offset: number): OrganisationRow[] {
    return (
      this.#db
        .prepare('SELECT * FROM organisations ORDER BY seq LIMIT ? OFFSET ?')
        .all(limit, offset) as Row[]
    ).map(organisationFrom);
  }

  // boards

  insertBoard(row: BoardRow): void {
    this.#db
      .prepare(
        `INSERT INTO boards (id, name, description, soc, organisation_id, public, metadata_fields, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.name,
        row.description,
        row.soc,
        row.organisationId,
        row.public ? 1 : 0,
        JSON.stringify(row.metadataFields),
        row.createdAt,
        row.updatedAt,
      );
  }

  boardById(id: string): BoardRow | undefined {
    const row = this.#db.prepare('SELECT * FROM boards WHERE id = ?').get(id) as Row | undefined;
    return row && boardFrom(row);
  }

  boardByName(organisationId: string, name: string): BoardRow | undefined {
    const row = this.#db
      .prepare('SELECT * FROM boards WHERE organisation_id = ? AND name = ?')
      .get(organisationId, name) as Row | undefined;
    return row && boardFrom(row);
  }

  listBoards(organisationId: string, limit: number, offset: number): BoardRow[] {
    return (
      this.#db
        .prepare('SELECT * FROM boards WHERE organisation_id = ? ORDER BY seq LIMIT ? OFFSET ?')
        .all(organisationId, limit, offset) as Row[]
    ).map(boardFrom);
  }

  // networks

  insertNetwork(row: NetworkRow): void {
    this.#db
      .prepare(
        `INSERT INTO networks (id, name, description, key, organisation_id, network_id, public, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.name,
        row.description,
        row.key,
        row.organisationId,
        row.networkId,
        row.public ? 1 : 0,
        row.createdAt,
        row.updatedAt,
      );
  }

  networkById(id: string): NetworkRow | undefined {
    const row = this.#db.prepare('SELECT * FROM networks WHERE id = ?').get(id) as Row | undefined;
    return row && networkFrom(row);
  }

  networkConflict(name: string, networkId: number): NetworkRow | undefined {
    const row = this.#db
      .prepare('SELECT * FROM networks WHERE name = ? OR network_id = ?')
      .get(name, networkId) as Row | undefined;
    return row && networkFrom(row);
  }

  listNetworks(organisationId: string, includePublic: boolean, limit: number, offset: number): NetworkRow[] {
    return (
      this.#db
        .prepare(
          'SELECT * FROM networks WHERE organisation_id = ? OR (? AND public = 1) ORDER BY seq LIMIT ? OFFSET ?',
        )
        .all(organisationId, includePublic ? 1 : 0, limit, offset) as Row[]
    ).map(networkFrom);
  }

  // devices

  insertDevice(row: DeviceRow): void {
    this.#db
      .prepare(
        `INSERT INTO devices (id, device_id, mcu_id, soc, board_id, organisation_id, metadata, initial_state,
           device_public_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.deviceId,
        row.mcuId,
        row.soc,
        row.boardId,
        row.organisationId,
        JSON.stringify(row.metadata),
        row.initialDeviceState === undefined ? null : JSON.stringify(row.initialDeviceState),
        row.devicePublicKey,
        row.createdAt,
        row.updatedAt,
      );
  }

  deviceById(id: string): DeviceRow | undefined {
    const row = this.#db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
    return row && deviceFrom(row);
  }

  deviceByDeviceId(deviceId: string): DeviceRow | undefined {
    const row = this.#db.prepare('SELECT * FROM devices WHERE device_id = ?').get(deviceId) as
      Row | undefined;
    return row && deviceFrom(row);
  }

  deviceBySocAndMcuId(soc: string, mcuId: string): DeviceRow | undefined {
    const row = this.#db.prepare('SELECT * FROM devices WHERE soc = ? AND mcu_id = ?').get(soc, mcuId) as
      Row | undefined;
    return row && deviceFrom(row);
  }

  listDevices(organisationId: string, limit: number, offset: number): DeviceRow[] {
    return (
      this.#db
        .prepare('SELECT * FROM devices WHERE organisation_id = ? ORDER BY seq LIMIT ? OFFSET ?')
        .all(organisationId, limit, offset) as Row[]
    ).map(deviceFrom);
  }

  bindDevicePublicKey(deviceId: string, devicePublicKey: string, at: string): void {
    this.#db
      .prepare(
        'UPDATE devices SET device_public_key = ?, updated_at = ? WHERE device_id = ? AND device_public_key IS NULL',
      )
      .run(devicePublicKey, at, deviceId);
  }

  // security states and "seen"

  storeSecurityState(deviceId: string, stateJson: string, at: string): void {
    this.#db
      .prepare(
        `INSERT INTO security_states (device_id, state, stored_at) VALUES (?, ?, ?)
         ON CONFLICT(device_id) DO UPDATE SET state = excluded.state, stored_at = excluded.stored_at`,
      )
      .run(deviceId, stateJson, at);
  }

  securityState(deviceId: string): string | undefined {
    const row = this.#db.prepare('SELECT state FROM security_states WHERE device_id = ?').get(deviceId) as
      Row | undefined;
    return row ? str(row, 'state') : undefined;
  }

  recordSeen(deviceId: string, at: string, address: string): SeenRow {
    this.#db
      .prepare(
        `INSERT INTO device_seen (device_id, first_seen_at, last_seen_at, address, sequence) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT(device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, address = excluded.address,
           sequence = sequence + 1`,
      )
      .run(deviceId, at, at, address);
    return this.seen(deviceId) as SeenRow;
  }

  seen(deviceId: string): SeenRow | undefined {
    const row = this.#db.prepare('SELECT * FROM device_seen WHERE device_id = ?').get(deviceId) as
      Row | undefined;
    return (
      row && {
        deviceId: str(row, 'device_id'),
        firstSeenAt: str(row, 'first_seen_at'),
        lastSeenAt: str(row, 'last_seen_at'),
        address: str(row, 'address'),
        sequence: Number(row.sequence),
      }
    );
  }
}
