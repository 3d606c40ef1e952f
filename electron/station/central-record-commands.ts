/**
 * The central QA/supervisor host (`station serve --central URL`): the same commands as a station's, answered from
 * the central record instead of the host's own trail. QA reads units, records, dashboards and reports of every
 * station; nothing is written there. A signature, a note, a void or a release is an event in the trail of the
 * station that made the unit (it reaches the central record when that station ships), so they are refused here
 * with where to do them; so is everything that runs the line.
 */
import type { StationVerdict } from '../central';
import { CentralLookupError, type CentralReview } from '../central-review';
import { UnitQueryError } from '../review';
import type { CommandFailure, Session } from '../station-api';
import type { HandlerTable } from './command-handlers';
import type { ReportCommands } from './report-commands';
import type { LastVerification } from './review-commands';

export interface CentralRecordContext {
  review: CentralReview;
  /** Re-walks every station's chain in the central database (`station central verify`). */
  verify: () => Promise<StationVerdict[]>;
  reports: ReportCommands;
  /** The last walk QA asked for on this host. */
  verification: { last: LastVerification | null };
}

const refusal = (what: string) => (): CommandFailure => ({
  ok: false,
  code: 'READ_ONLY',
  message: `This is the central record, read-only: ${what}`,
});

const onTheStation = refusal(
  "sign, note, void and release on the station that made the unit: it is an event in that station's own trail, and reaches the central record when the station ships it.",
);
const noLine = refusal('it runs no line. Open batches and provision boards on a station.');

function lookupFailure(error: unknown): CommandFailure {
  if (error instanceof CentralLookupError) {
    return { ok: false, code: error.code === 'AMBIGUOUS' ? 'BAD_INPUT' : error.code, message: error.message };
  }
  if (error instanceof UnitQueryError) return { ok: false, code: 'BAD_INPUT', message: error.message };
  throw error;
}

function verdictSummary(verdicts: StationVerdict[]): { intact: boolean; events: number; message: string } {
  const events = verdicts.reduce((sum, v) => sum + (v.result.ok ? v.result.events : 0), 0);
  const broken = verdicts.filter((v) => !v.result.ok || v.refused);
  if (broken.length === 0) {
    return {
      intact: true,
      events,
      message: `intact: ${verdicts.length} stations, ${events} events, every hash and checkpoint signature checked against each station's registered key`,
    };
  }
  const first = broken[0]!;
  const why = !first.result.ok
    ? first.result.message
    : `the central database refused its later events at seq ${first.refused!.seq}: ${first.refused!.reason}`;
  return {
    intact: false,
    events,
    message: `${broken.length} of ${verdicts.length} stations do not verify; station ${first.stationId}: ${why}`,
  };
}

const who = (session: Session | null) => session?.operatorId ?? null;

/**
 * Every command, decided: answered from the central record, refused, or `HOST` (the host's own handler: its
 * sessions and accounts). A command added to the contract does not compile until it is decided here.
 */
export const HOST = 'host' as const;
type CentralTable = { [N in keyof HandlerTable]: HandlerTable[N] | typeof HOST };

export const CENTRAL_RECORD_HANDLERS: CentralTable = {
  'station.status': HOST,
  'session.login': HOST,
  'session.logout': HOST,
  'accounts.list': HOST,
  'accounts.init': HOST,
  'accounts.create': HOST,
  'accounts.disable': HOST,
  'accounts.enable': HOST,
  'accounts.resetPin': HOST,
  'accounts.setRoles': HOST,
  'ports.list': HOST,
  'sim.unplug': noLine,
  'sim.replug': noLine,
  'units.query': async (c, input) => {
    try {
      return { ok: true as const, ...(await c.central!.review.queryUnits(input)) };
    } catch (error) {
      return lookupFailure(error);
    }
  },
  'units.facets': async (c) => ({ ok: true as const, facets: await c.central!.review.facets() }),
  'unit.detail': async (c, input) => {
    try {
      return { ok: true as const, detail: await c.central!.review.unitDetail(input.unitId, input.stationId) };
    } catch (error) {
      return lookupFailure(error);
    }
  },
  'batch.dashboard': (c, input) => c.central!.reports.dashboard(input.batchId, input.stationId, input.shifts),
  'batch.report': (c, input) => c.central!.reports.html(input.batchId, input.stationId),
  'batch.export': (c, input) => c.central!.reports.export(input.batchId, input.formats, input.stationId),
  'audit.verify': async (c, _input, session) => {
    const verdicts = await c.central!.verify();
    const summary = verdictSummary(verdicts);
    c.central!.verification.last = {
      at: c.now().toISOString(),
      scope: 'full',
      intact: summary.intact,
      events: summary.events,
      firstBadSeq: null,
      message: summary.message,
      by: who(session),
    };
    return {
      ok: true as const,
      report: {
        intact: summary.intact,
        events: summary.intact ? summary.events : null,
        lastHash: null,
        firstBadSeq: null,
        message: summary.message,
      },
    };
  },
  'audit.status': (c) => ({
    ok: true as const,
    status: {
      // The central record has one chain per station: there is no single head to show.
      head: null,
      lastVerified: c.central!.verification.last,
      lastCheckpoint: null,
      stationKeyFingerprint: c.stationKeyFingerprint,
    },
  }),
  'batch.open': noLine,
  'batch.close': noLine,
  'slot.scan': noLine,
  'slot.start': noLine,
  'slot.retry': noLine,
  'slot.cancel': noLine,
  'slot.skip': noLine,
  'unit.history': refusal(
    "a unit's whole record is unit.detail here (the central record has no station trail).",
  ),
  'unit.note': onTheStation,
  'record.sign': onTheStation,
  'unit.void': onTheStation,
  'batch.release': onTheStation,
};
