/**
 * After a crash (power cut, kill -9, a cable pulled mid-write) some units were left in progress. Before any new
 * unit starts, each is settled against the truth: the cloud's record for its chip and, when the board is on one
 * of the station's ports, what the board holds. The unit is then closed as interrupted (its board is provisioned
 * again by the next run, which finds the device by soc + mcuId and re-uses it: never a second device), or put
 * aside for an operator when board and cloud disagree.
 */
import type { AuditStore } from '../audit';
import { unwrap, type InfuseClient } from '../backend';
import { BoardSession, SerialLink } from '../serial';

export interface BoardFinding {
  port: string;
  deviceId: string | null;
  state: string;
}

export interface ReconcileOptions {
  store: AuditStore;
  client: InfuseClient;
  operator: string;
  /** Ports to read boards from (the station's slots); boards found there are matched by soc + mcuId. */
  ports?: string[];
  baudRate?: number;
}

export interface Reconciliation {
  unitId: string;
  resolution: 'interrupted' | 'attention';
  reason: string;
}

/** HELLO + IDENTIFY + READBACK on every port that answers; a port that does not is simply not a finding. */
async function readBoards(ports: string[], baudRate: number | undefined): Promise<Map<string, BoardFinding>> {
  const found = new Map<string, BoardFinding>();
  await Promise.all(
    ports.map(async (port) => {
      let link: SerialLink | undefined;
      try {
        link = await SerialLink.open({ path: port, ...(baudRate !== undefined && { baudRate }) });
        const session = new BoardSession(link);
        await session.hello();
        const identity = await session.identify();
        const readback = await session.readback();
        found.set(`${identity.soc}/${identity.mcuId}`, {
          port,
          deviceId: readback.deviceId,
          state: readback.state,
        });
      } catch {
        // Not reachable now: reconciliation goes on with the cloud's view alone.
      } finally {
        await link?.close();
      }
    }),
  );
  return found;
}

function identifiedDetails(
  store: AuditStore,
  unitId: string,
): { soc: string; mcuId: string; cloudMcuId: string } | null {
  const event = store.unitHistory(unitId).events.find((e) => e.kind === 'unit.identified');
  if (!event) return null;
  const { soc, mcuId, cloudMcuId } = event.details as {
    soc?: unknown;
    mcuId?: unknown;
    cloudMcuId?: unknown;
  };
  if (typeof soc !== 'string' || typeof mcuId !== 'string') return null;
  return { soc, mcuId, cloudMcuId: typeof cloudMcuId === 'string' ? cloudMcuId : mcuId };
}

export async function reconcileUnfinishedUnits(options: ReconcileOptions): Promise<Reconciliation[]> {
  const { store, client, operator } = options;
  const unfinished = store.unfinishedUnits().filter((unit) => unit.state === 'in-progress');
  const results: Reconciliation[] = [];
  const boards = unfinished.length > 0 ? await readBoards(options.ports ?? [], options.baudRate) : new Map();

  for (const unit of unfinished) {
    const envelope = { operator, batchId: unit.batchId, unitId: unit.id, slot: unit.slot };
    const identity = identifiedDetails(store, unit.id);
    if (!identity) {
      const reason = `interrupted at ${unit.lastStep ?? 'start'}, before the board was identified: nothing was created or written`;
      store.append({
        ...envelope,
        kind: 'unit.finished',
        outcome: 'failed',
        details: { errorCode: 'INTERRUPTED', message: reason },
      });
      results.push({ unitId: unit.id, resolution: 'interrupted', reason });
      continue;
    }
    const device = unwrap(await client.getDeviceBySocAndMcuId(identity.soc, identity.cloudMcuId));
    const board = boards.get(`${identity.soc}/${identity.mcuId}`);
    const cloudId = device?.deviceId ?? null;
    const boardId = board ? board.deviceId : undefined;
    const findings = {
      cloudDeviceId: cloudId,
      boardDeviceId: boardId ?? null,
      boardRead: board !== undefined,
      boardState: board?.state ?? null,
      lastStep: unit.lastStep,
    };
    if (boardId && boardId !== cloudId) {
      const reason =
        cloudId === null
          ? `board holds device id ${boardId} but the cloud has no device for its chip`
          : `board holds device id ${boardId} but the cloud registered its chip as ${cloudId}`;
      store.append({
        ...envelope,
        kind: 'unit.attention',
        details: {
          reason: `${reason}: a supervisor must decide before it is provisioned again`,
          errorCode: 'RECONCILE_CONFLICT',
          ...findings,
        },
      });
      results.push({ unitId: unit.id, resolution: 'attention', reason });
      continue;
    }
    const reason =
      cloudId === null
        ? `interrupted at ${unit.lastStep ?? 'start'}; the cloud has no device for this chip yet`
        : `interrupted at ${unit.lastStep ?? 'start'}; device ${cloudId} exists${board ? (boardId ? ' and the board holds it' : ' and the board holds nothing yet') : ' (board not attached)'}; the next run re-uses it`;
    store.append({
      ...envelope,
      kind: 'unit.finished',
      outcome: 'failed',
      details: {
        errorCode: 'INTERRUPTED',
        message: reason,
        ...(cloudId && { deviceId: cloudId }),
        ...findings,
      },
    });
    results.push({ unitId: unit.id, resolution: 'interrupted', reason });
  }
  return results;
}
