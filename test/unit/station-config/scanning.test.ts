import { describe, expect, it } from 'vitest';
import {
  checkStationConfig,
  matchScan,
  resolveMetadata,
  type StationConfig,
} from '../../../station-config/index';
import { production } from './fixtures';

function config(): StationConfig {
  const result = checkStationConfig(production());
  if (!result.valid) throw new Error('template must be valid');
  return result.config;
}

describe('matchScan', () => {
  const { scanning } = config();

  it('fills the fields of the first format that matches the whole scan', () => {
    expect(matchScan(scanning, 'SN:AB12345678\r\n')).toEqual({
      ok: true,
      format: 'serial-label',
      fields: { serialNumber: 'AB12345678' },
    });
    expect(matchScan(scanning, 'WO-123456')).toEqual({
      ok: true,
      format: 'work-order-label',
      fields: { workOrder: '123456' },
    });
  });

  it('a bad scan says what the config says', () => {
    expect(matchScan(scanning, 'SN:AB12345678X')).toEqual({
      ok: false,
      message: 'That label was not recognised. Scan the SN label on the back of the board.',
    });
  });
});

describe('resolveMetadata', () => {
  const { station, recipes } = config();
  const recipe = recipes[0]!;

  it('takes values from the scan, the station and constants; optional ones may be absent', () => {
    expect(resolveMetadata(recipe, station, { serialNumber: 'AB12345678' })).toEqual({
      ok: true,
      metadata: { 'Serial Number': 'AB12345678', 'Factory Line': 'Line 1', 'Hardware Revision': 'B' },
    });
  });

  it('refuses a unit without a required value', () => {
    expect(resolveMetadata(recipe, station, {})).toEqual({
      ok: false,
      missing: ['Serial Number'],
      message: 'missing Serial Number: scan the label that carries it',
    });
  });
});
