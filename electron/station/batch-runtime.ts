/**
 * The station's current batch: opened once (config recorded, batch.opened), taken up again after a restart,
 * counted after every unit, closed with a reason. A batch that cannot start (unknown network, bad secret, backend
 * unreachable) is not opened in the trail at all. The batch's shared resources (organisation, board profile,
 * network key, the cloud port) live in its BatchContext while it is open.
 */
import { randomUUID } from 'node:crypto';
import type { AuditStore } from '../audit';
import { BackendError, type InfuseClient } from '../backend';
import {
  auditProvisioningRecords,
  openBatchContext,
  ProvisioningError,
  type BatchContext,
} from '../provisioning';
import { decodeNetworkKeySecret, secretFingerprints, type SecretStore } from '../secrets';
import type { BatchCounts, CommandFailure, Snapshot } from '../station-api';
import { effectiveConfig, secretReferences, type Recipe, type StationConfig } from '../../station-config';
import type { EventBus } from './event-bus';

export interface BatchRuntimeOptions {
  config: StationConfig;
  client: InfuseClient;
  store: AuditStore;
  secrets: SecretStore;
  bus: EventBus;
  now: () => Date;
}

export interface OpenBatchInput {
  name: string;
  workOrder?: string;
  recipeId?: string;
  targetQuantity?: number;
}

const HOUR_MS = 3_600_000;

/** Does this recipe wait for a label before a unit starts? */
export function recipeRequiresScan(config: StationConfig, recipe: Recipe): boolean {
  return (
    config.slots.start === 'on-scan' ||
    recipe.metadata.some((field) => field.required && field.from.startsWith('scan:'))
  );
}

export class BatchRuntime {
  private context: BatchContext | null = null;

  constructor(private readonly options: BatchRuntimeOptions) {}

  get current(): Snapshot['batch'] {
    return this.options.bus.snapshot.batch;
  }

  /** The batch can start units now: open, prepared, short of its target. */
  get ready(): BatchContext | null {
    const batch = this.current;
    if (!batch || batch.targetReached || batch.problem) return null;
    return this.context;
  }

  recipeOf(recipeId: string): Recipe | undefined {
    return this.options.config.recipes.find((recipe) => recipe.id === recipeId);
  }

  /** After a restart: an open batch in the trail is the station's batch again. */
  async resume(): Promise<void> {
    const { store } = this.options;
    const open = store.openBatches().at(-1);
    if (!open) return;
    const opened = store.batchOpenedEvent(open.id);
    const details = (opened?.details ?? {}) as { workOrder?: unknown; targetQuantity?: unknown };
    const recipe = this.recipeOf(open.recipeId);
    this.publishOpened({
      batchId: open.id,
      name: open.name,
      workOrder: typeof details.workOrder === 'string' ? details.workOrder : null,
      recipeId: open.recipeId,
      targetQuantity: typeof details.targetQuantity === 'number' ? details.targetQuantity : null,
      requiresScan: recipe ? recipeRequiresScan(this.options.config, recipe) : false,
      openedBy: open.operator,
      at: open.openedAt,
    });
    if (!recipe) {
      this.refresh(`recipe "${open.recipeId}" of this batch is not in the config any more: close the batch`);
      return;
    }
    const effective = await this.effective();
    if (effective.sha256 !== open.configSha256) this.recordConfig(open.id, open.operator, effective);
    const prepared = await this.prepare(recipe);
    this.refresh(prepared.ok ? null : prepared.message);
  }

  async open(
    input: OpenBatchInput,
    by: string,
  ): Promise<{ ok: true; batchId: string; continued: boolean } | CommandFailure> {
    const { store, config } = this.options;
    const current = this.current;
    if (current) {
      if (current.name !== input.name) {
        return {
          ok: false,
          code: 'BATCH_OPEN',
          message: `Batch "${current.name}" is open: close it before opening "${input.name}".`,
        };
      }
      if (current.problem) {
        const recipe = this.recipeOf(current.recipeId);
        if (!recipe) return { ok: false, code: 'RECIPE_NOT_FOUND', message: current.problem };
        const prepared = await this.prepare(recipe);
        if (!prepared.ok) return prepared;
        this.refresh(null);
      }
      return { ok: true, batchId: current.id, continued: true };
    }
    const earlier = store.batchByName(input.name);
    if (earlier) {
      return {
        ok: false,
        code: 'BATCH_CLOSED',
        message: `A batch named "${input.name}" was opened on ${earlier.openedAt.slice(0, 10)} and is closed: give the new batch another name.`,
      };
    }
    const recipe = input.recipeId
      ? this.recipeOf(input.recipeId)
      : config.recipes.length === 1
        ? config.recipes[0]
        : undefined;
    if (!recipe) {
      return {
        ok: false,
        code: 'RECIPE_NOT_FOUND',
        message: input.recipeId
          ? `There is no recipe "${input.recipeId}" in this station's config; recipes: ${config.recipes.map((r) => r.id).join(', ')}.`
          : `Pick a recipe: this station has ${config.recipes.length} (${config.recipes.map((r) => r.id).join(', ')}).`,
      };
    }
    // Everything that can fail is tried before the trail says the batch exists.
    const prepared = await this.prepare(recipe);
    if (!prepared.ok) return prepared;
    const effective = await this.effective();
    const batchId = randomUUID();
    this.recordConfig(batchId, by, effective);
    const event = store.append({
      kind: 'batch.opened',
      operator: by,
      batchId,
      details: {
        name: input.name,
        recipeId: recipe.id,
        configSha256: effective.sha256,
        ...(input.workOrder !== undefined && { workOrder: input.workOrder }),
        ...(input.targetQuantity !== undefined && { targetQuantity: input.targetQuantity }),
      },
    });
    this.publishOpened({
      batchId,
      name: input.name,
      workOrder: input.workOrder ?? null,
      recipeId: recipe.id,
      targetQuantity: input.targetQuantity ?? null,
      requiresScan: recipeRequiresScan(config, recipe),
      openedBy: by,
      at: event.at,
      auditSeq: event.seq,
    });
    return { ok: true, batchId, continued: false };
  }

  /** Records batch.closed and forgets the batch; the caller checks roles and running units first. */
  close(reason: string, by: string | null): { batchId: string } | null {
    const batch = this.current;
    if (!batch) return null;
    const event = this.options.store.append({
      kind: 'batch.closed',
      operator: by,
      batchId: batch.id,
      details: { reason },
    });
    // A closed batch is signed: its record cannot later be rewritten without the station's key.
    this.options.store.checkpoint('batch-closed');
    this.context?.close();
    this.context = null;
    this.options.bus.publish({
      kind: 'batch.closed',
      at: event.at,
      auditSeq: event.seq,
      batchId: batch.id,
      reason,
      closedBy: by,
    });
    return { batchId: batch.id };
  }

  /** Publishes the batch's counts, yield and pace as the trail has them now. */
  refresh(problem: string | null = this.current?.problem ?? null): void {
    const batch = this.current;
    if (!batch) return;
    const counts = this.counts(batch.id);
    const finished = counts.passed + counts.failed;
    const now = this.options.now();
    // Units per hour over the last hour (or since the batch opened, if that is sooner), at least a minute.
    const windowStart = Math.max(Date.parse(batch.openedAt), now.getTime() - HOUR_MS);
    const windowMs = Math.max(60_000, now.getTime() - windowStart);
    const recent = this.options.store.passedSince(
      batch.id,
      new Date(windowStart).toISOString().replace('Z', '+00:00'),
    );
    this.options.bus.publish({
      kind: 'batch.changed',
      at: now.toISOString(),
      batchId: batch.id,
      counts,
      firstPassYield: finished === 0 ? null : counts.firstPass / finished,
      unitsPerHour: counts.passed === 0 ? null : Math.round((recent * HOUR_MS) / windowMs),
      targetReached: batch.targetQuantity !== null && counts.passed >= batch.targetQuantity,
      problem,
    });
  }

  /** Wipes the batch's secrets (the network key); the trail keeps the batch open for the next start. */
  release(): void {
    this.context?.close();
    this.context = null;
  }

  private counts(batchId: string): BatchCounts {
    const summary = this.options.store.batchSummary(batchId);
    return {
      passed: summary?.passed ?? 0,
      failed: summary?.failed ?? 0,
      cancelled: summary?.cancelled ?? 0,
      inProgress: summary?.inProgress ?? 0,
      firstPass: summary?.firstPass ?? 0,
    };
  }

  private publishOpened(batch: {
    batchId: string;
    name: string;
    workOrder: string | null;
    recipeId: string;
    targetQuantity: number | null;
    requiresScan: boolean;
    openedBy: string | null;
    at: string;
    auditSeq?: number;
  }): void {
    const { at, auditSeq, ...rest } = batch;
    this.options.bus.publish({
      kind: 'batch.opened',
      at,
      auditSeq: auditSeq ?? this.options.store.batch(batch.batchId)?.lastSeq ?? 0,
      ...rest,
      counts: this.counts(batch.batchId),
    });
    this.refresh(null);
  }

  private async prepare(recipe: Recipe): Promise<{ ok: true } | CommandFailure> {
    const { config, client, secrets } = this.options;
    this.context?.close();
    this.context = null;
    try {
      this.context = await openBatchContext({
        client,
        recipe,
        station: config.station,
        concurrency: config.backend.concurrency,
        createDeviceFirst: config.backend.createDeviceFirst,
        records: auditProvisioningRecords(this.options.store),
        networkKeyFromStore: async (name) => {
          const stored = await secrets.get(name);
          return stored && decodeNetworkKeySecret(name, stored);
        },
      });
      return { ok: true };
    } catch (error) {
      const message =
        error instanceof BackendError || error instanceof ProvisioningError
          ? error.operatorMessage
          : error instanceof Error
            ? error.message
            : String(error);
      return { ok: false, code: 'BATCH_NOT_READY', message: `The batch cannot start: ${message}` };
    }
  }

  private async effective() {
    const { config, secrets } = this.options;
    return effectiveConfig(config, await secretFingerprints(secrets, secretReferences(config)));
  }

  private recordConfig(
    batchId: string,
    by: string | null,
    effective: Awaited<ReturnType<BatchRuntime['effective']>>,
  ): void {
    this.options.store.append({
      kind: 'config.recorded',
      operator: by,
      batchId,
      details: {
        configSha256: effective.sha256,
        environment: this.options.config.environment,
        recipeIds: this.options.config.recipes.map((r) => r.id),
        secretFingerprints: effective.secrets,
        configJson: effective.canonicalJson,
      },
    });
  }
}
