/**
 * `units-tested.cfx.json`: the batch as one IPC-CFX `CFX.Production.TestAndInspection.UnitsTested` message in its
 * CFX JSON envelope, for a line's MES. Field names are the CFX SDK's (CFXEnvelope, UnitsTested, TestedUnit, Test,
 * Symptom, NumericMeasurement/TextMeasurement; CFX 2.1). Each unit that has a result is a TestedUnit, each step of
 * its latest attempt a Test; a failed step carries its error code as a Symptom. Units still in progress have no
 * result yet and are left out. Identifiers are UUID v5 of the station id and the event's seq, so the same trail
 * gives the same ids; only the envelope's UniqueID is new per export (one message, one id).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { BatchReportData, ReportStep, ReportUnit, UnitStateName } from './data';

export const CFX_MESSAGE_NAME = 'CFX.Production.TestAndInspection.UnitsTested';
export const CFX_VERSION = '2.1';

export type CfxTestResult = 'Passed' | 'Failed' | 'Error' | 'Aborted' | 'Skipped';

/** A fixed namespace for the station's name-based UUIDs (itself a random v4, chosen once). */
const NAMESPACE = Buffer.from('5c0e9f6e4d2b4f8a9d3e1b7a6c5f4e3d', 'hex');
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 4122 name-based UUID (version 5, SHA-1). */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function cfxOverallResult(state: UnitStateName): CfxTestResult | null {
  switch (state) {
    case 'passed':
      return 'Passed';
    case 'failed':
      return 'Failed';
    case 'attention':
      return 'Error';
    case 'cancelled':
    case 'voided':
      return 'Aborted';
    case 'in-progress':
      return null;
  }
}

function stepResult(step: ReportStep, unit: ReportUnit): CfxTestResult {
  if (step.outcome === 'passed') return 'Passed';
  if (step.outcome === 'failed') return 'Failed';
  if (step.outcome === 'skipped') return 'Skipped';
  return unit.state === 'cancelled' ? 'Aborted' : 'Error';
}

function measurements(step: ReportStep, id: string): unknown[] {
  const list: unknown[] = [];
  let sequence = 0;
  for (const [name, value] of Object.entries(step.measurements)) {
    const common = {
      UniqueIdentifier: uuidV5(`${id}/measurement/${name}`),
      MeasurementName: name,
      TimeRecorded: step.endedAt,
      Sequence: sequence++,
      Result: 'Passed',
      CRDs: null,
    };
    if (typeof value === 'number') {
      list.push({
        $type: 'CFX.Structures.NumericMeasurement, CFX',
        ...common,
        MeasuredValue: {
          Value: value,
          ValueUnits: name.endsWith('Ms') ? 'ms' : null,
          ExpectedValue: null,
          ExpectedValueUnits: null,
          MinimumAcceptableValue: null,
          MinimumAcceptableValueUnits: null,
          MaximumAcceptableValue: null,
          MaximumAcceptableValueUnits: null,
        },
      });
    } else if (typeof value === 'string' || typeof value === 'boolean') {
      list.push({
        $type: 'CFX.Structures.TextMeasurement, CFX',
        ...common,
        Value: String(value),
        ExpectedValue: null,
      });
    }
  }
  return list;
}

function test(step: ReportStep, unit: ReportUnit, stationId: string) {
  // The step's event (station + seq) names it for good: the same trail exports the same ids.
  const id = `${stationId}/event/${step.seq}`;
  const result = stepResult(step, unit);
  const failed = result === 'Failed' || result === 'Error';
  return {
    UniqueIdentifier: uuidV5(id),
    TestName: step.name,
    TestStartTime: step.startedAt,
    TestEndTime: step.endedAt,
    TestConditions: [],
    TestProcedure: null,
    Comments: null,
    Result: result,
    Error: failed ? (step.message ?? step.errorCode) : null,
    SymptomsFound: failed
      ? [
          {
            UniqueIdentifier: uuidV5(`${id}/symptom`),
            SymptomCode: step.errorCode ?? 'FAILED',
            SymptomCategory: 'Provisioning',
            Description: step.message,
            Comments: null,
            Status: 'NewlyDiscovered',
            ComponentsOfInterest: [],
            RegionOfInterest: null,
            Priority: 1,
            RelatedMeasurements: [],
          },
        ]
      : [],
    DefectsFound: [],
    Measurements: measurements(step, id),
  };
}

export function cfxTestedUnit(unit: ReportUnit, stationId: string) {
  const result = cfxOverallResult(unit.state);
  if (result === null) return null;
  const latest = unit.attemptRecords.at(-1);
  return {
    UnitIdentifier: unit.serialNumber ?? unit.deviceId ?? unit.id,
    // Each board is a unit of its own (no panel), so it is position 1 of itself (CFX position rule).
    UnitPositionNumber: 1,
    OverallResult: result,
    Tests: latest?.steps.map((step) => test(step, unit, stationId)) ?? [],
  };
}

/** The CFX handle of this station as a message source. */
export function cfxHandle(stationId: string): string {
  return `Infuse.ProvisioningStation.${stationId}`;
}

/** The envelope, in pieces (one tested unit at a time). */
export function* renderCfx(data: BatchReportData, generatedAt: string): Generator<string> {
  const lastEnd = data.units.reduce<string | null>(
    (latest, unit) =>
      unit.endedAt !== null && (latest === null || unit.endedAt > latest) ? unit.endedAt : latest,
    null,
  );
  const envelope = {
    MessageName: CFX_MESSAGE_NAME,
    Version: CFX_VERSION,
    // When the testing took place (CFX: the event's time, not the transmission's).
    TimeStamp: data.batch.closedAt ?? lastEnd ?? generatedAt,
    UniqueID: randomUUID(),
    Source: cfxHandle(data.stationId),
    Target: null,
    RequestID: null,
    MessageBody: {
      TransactionId: UUID_RE.test(data.batch.id)
        ? data.batch.id.toLowerCase()
        : uuidV5(`batch/${data.batch.id}`),
      TestMethod: 'Automated',
      Tester: {
        OperatorIdentifier: data.batch.operator,
        ActorType: 'Human',
        LastName: null,
        FirstName: null,
        LoginName: data.batch.operator,
      },
      SamplingInformation: { SamplingMethod: 'NoSampling', LotSize: null, SampleSize: null },
      TestedUnits: [],
    },
  };
  const text = JSON.stringify(envelope);
  // Everything up to the empty TestedUnits array, then the units, then the closing brackets.
  yield text.slice(0, text.lastIndexOf('[]') + 1);
  let first = true;
  for (const unit of data.units) {
    const tested = cfxTestedUnit(unit, data.stationId);
    if (!tested) continue;
    yield `${first ? '\n' : ',\n'}${JSON.stringify(tested)}`;
    first = false;
  }
  yield '\n]}}\n';
}
