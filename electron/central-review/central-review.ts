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

  /** The station a unit or batch id belongs to: the one given, else the only station that has it. */
  private async stationOf(table: 'central_units' | 'central_batches', id: string, stationId?: string) {
    const what = table === 'central_units' ? 'unit' : 'batch';
    const code = table === 'central_units' ? 'UNIT_NOT_FOUND' : 'BATCH_NOT_FOUND';
    const { rows } = await this.pool.query<{ station_id: string }>(
      `SELECT station_id FROM ${table} WHERE id = $1 AND ($2::text IS NULL OR station_id = $2) ORDER BY station_id LIMIT 5`,
      [id, stationId ?? null],
    );
    if (rows.length === 0) {
      throw new CentralLookupError(
        code,
        stationId
          ? `Station ${stationId} has no ${what} ${id} in the central record: check the id, or that the station has shipped it.`
          : `There is no ${what} ${id} in the central record: check the id (search by mcuId or serial finds units), or that its station has shipped it.`,
      );
    }
    if (rows.length > 1) {
      throw new CentralLookupError(
        'AMBIGUOUS',
        `${what} id ${id} is in the record of stations ${rows.map((row) => row.station_id).join(', ')}: say which station (stationId).`,
      );
    }
    return rows[0]!.station_id;
  }

  async unitDetail(unitId: string, stationId?: string): Promise<UnitDetail> {
    const station = await this.stationOf('central_units', unitId, stationId);
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

  /** The batch's id as the station knows it, and the station: a batch is named by id or by its latest name. */
  async findBatch(
    batchNameOrId: string,
    stationId?: string,
  ): Promise<{ stationId: string; batchId: string }> {
    const byName = await this.pool.query<{ station_id: string; id: string }>(
      `SELECT station_id, id FROM central_batches WHERE id = $1 AND ($2::text IS NULL OR station_id = $2)
       UNION ALL
       (SELECT station_id, id FROM central_batches WHERE name = $1 AND ($2::text IS NULL OR station_id = $2)
        ORDER BY opened_at DESC LIMIT 1)`,
      [batchNameOrId, stationId ?? null],
    );
    const first = byName.rows[0];
    if (!first) {
      throw new CentralLookupError(
        'BATCH_NOT_FOUND',
        `There is no batch named or with id ${JSON.stringify(batchNameOrId)} in the central record${stationId ? ` for station ${stationId}` : ''}.`,
      );
    }
    // An id names the batch (unless two stations have it); a name the latest batch of that name.
    const byId = byName.rows.filter((row) => row.id === batchNameOrId);
    if (byId.length > 0) {
      const station = await this.stationOf('central_batches', batchNameOrId, stationId);
      return { stationId: station, batchId: batchNameOrId };
    }
    return { stationId: first.station_id, batchId: first.id };
  }

  /** A batch's report data, as the station's own report reads it. */
  async batchReportData(
    batchNameOrId: string,
    detail: ReportDetail,
    stationId?: string,
  ): Promise<BatchReportData> {
    const found = await this.findBatch(batchNameOrId, stationId);
    const slice = await TrailSlice.forBatch(this.pool, found.stationId, found.batchId, detail);
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

  /** The station's head as the central record holds it: a cache of a batch's numbers is good until it moves. */
  async headOf(stationId: string): Promise<number> {
    const { rows } = await this.pool.query<{ head_seq: string }>(
      'SELECT head_seq FROM central_stations WHERE station_id = $1',
      [stationId],
    );
    return Number(rows[0]?.head_seq ?? 0);
  }
}
