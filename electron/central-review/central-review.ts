/**
 * QA review and batch reports over the central record: what the central QA/supervisor host answers instead of a
 * station's own trail. Lists and menus are PostgreSQL queries over central_units and central_batches; a unit's
 * record and a batch's report are made from a slice of the station's record by the station's own code
 * (trail-slice.ts). Everything here reads: the pool's transactions are read-only on the server.
 */
import type pg from 'pg';
import { readBatchReportData, type BatchReportData, type ReportDetail } from '../reports';
import { unitDetail } from '../review';
import type { UnitDetail, UnitFacets, UnitPage, UnitPageRequest } from '../station-api';
import { centralFacets } from './central-facets';
import { queryCentralUnits } from './central-units';
import { TrailSlice } from './trail-slice';

/** Why an id could not be settled to one station's unit or batch: the message says what to give. */
export class CentralLookupError extends Error {
  override readonly name = 'CentralLookupError';
  constructor(
    readonly code: 'UNIT_NOT_FOUND' | 'BATCH_NOT_FOUND' | 'AMBIGUOUS',
    message: string,
  ) {
    super(message);
  }
}

export class CentralReview {
  constructor(
    private readonly pool: pg.Pool,
    /** The database as it may be shown (no password). */
    readonly where: string,
  ) {}

  queryUnits(request: UnitPageRequest): Promise<UnitPage> {
    return queryCentralUnits(this.pool, request);
  }

  facets(): Promise<UnitFacets> {
    return centralFacets(this.pool);
  }

  /** The station a unit id belongs to: the one given, else the only station that has it. */
  private async stationOfUnit(unitId: string, stationId?: string): Promise<string> {
    const { rows } = await this.pool.query<{ station_id: string }>(
      `SELECT station_id FROM central_units WHERE id = $1 AND ($2::text IS NULL OR station_id = $2)
        ORDER BY station_id LIMIT 5`,
      [unitId, stationId ?? null],
    );
    if (rows.length === 0) {
      throw new CentralLookupError(
        'UNIT_NOT_FOUND',
        stationId
          ? `Station ${stationId} has no unit ${unitId} in the central record: check the id, or that the station has shipped it.`
          : `There is no unit ${unitId} in the central record: check the id (search by mcuId or serial finds units), or that its station has shipped it.`,
      );
    }
    if (rows.length > 1) {
      throw new CentralLookupError(
        'AMBIGUOUS',
        `unit id ${unitId} is in the record of stations ${rows.map((row) => row.station_id).join(', ')}: say which station (stationId).`,
      );
    }
    return rows[0]!.station_id;
  }

  async unitDetail(unitId: string, stationId?: string): Promise<UnitDetail> {
    const station = await this.stationOfUnit(unitId, stationId);
    const slice = await TrailSlice.forUnit(this.pool, station, unitId);
    if (!slice)
      throw new CentralLookupError('UNIT_NOT_FOUND', `There is no unit ${unitId} in the central record.`);
    try {
      const detail = unitDetail(slice.db, unitId);
      if (!detail)
        throw new CentralLookupError('UNIT_NOT_FOUND', `There is no unit ${unitId} in the central record.`);
      return { ...detail, unit: { ...detail.unit, stationId: station } };
    } finally {
      slice.close();
    }
  }

  /**
   * The batch's station, id and name: a batch is named by its id or by its name (the latest batch of that name).
   * An id or a name that more than one station has needs the station said.
   */
  async findBatch(
    batchNameOrId: string,
    stationId?: string,
  ): Promise<{ stationId: string; batchId: string; name: string }> {
    const { rows } = await this.pool.query<{ station_id: string; id: string; name: string; by_id: boolean }>(
      `SELECT DISTINCT ON (station_id, by_id) station_id, id, name, by_id FROM (
         SELECT station_id, id, name, opened_at, id = $1 AS by_id FROM central_batches
          WHERE (id = $1 OR name = $1) AND ($2::text IS NULL OR station_id = $2)) found
        ORDER BY station_id, by_id, opened_at DESC LIMIT 20`,
      [batchNameOrId, stationId ?? null],
    );
    // An id names a batch before a name does.
    const byId = rows.filter((row) => row.by_id);
    const matches = byId.length > 0 ? byId : rows;
    if (matches.length === 0) {
      throw new CentralLookupError(
        'BATCH_NOT_FOUND',
        `There is no batch named or with id ${JSON.stringify(batchNameOrId)} in the central record${stationId ? ` for station ${stationId}` : ''}.`,
      );
    }
    if (matches.length > 1) {
      throw new CentralLookupError(
        'AMBIGUOUS',
        `stations ${matches.map((row) => row.station_id).join(', ')} each have a batch ${byId.length > 0 ? 'with id' : 'named'} ${JSON.stringify(batchNameOrId)}: say which station (stationId).`,
      );
    }
    const found = matches[0]!;
    return { stationId: found.station_id, batchId: found.id, name: found.name };
  }

  /** The last event of a batch: a batch's numbers are good until it moves (other batches do not matter). */
  async batchVersion(stationId: string, batchId: string): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string | null }>(
      'SELECT max(seq) AS seq FROM central_events WHERE batch_id = $1 AND station_id = $2',
      [batchId, stationId],
    );
    return Number(rows[0]?.seq ?? 0);
  }

  /** A batch's report data, as the station's own report reads it. */
  async batchReportData(
    batchNameOrId: string,
    detail: ReportDetail,
    stationId?: string,
  ): Promise<BatchReportData> {
    const found = await this.findBatch(batchNameOrId, stationId);
    const slice = await TrailSlice.forBatch(this.pool, found.stationId, found.batchId);
    if (!slice) {
      throw new CentralLookupError(
        'BATCH_NOT_FOUND',
        `There is no batch ${batchNameOrId} in the central record.`,
      );
    }
    try {
      return readBatchReportData(
        slice.db,
        `the central record of station ${found.stationId}`,
        found.batchId,
        {
          detail,
        },
      );
    } finally {
      slice.close();
    }
  }
}
