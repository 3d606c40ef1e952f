/**
 * The report's small rules on their own: shift windows (across midnight, a custom list, bad input), percentiles
 * as a spreadsheet computes them, formula neutralisation of text cells, the outcome mappings to OpenHTF and CFX,
 * the format list, and name-based UUIDs that stay the same for the same trail.
 */
import { describe, expect, it } from 'vitest';
import { cfxOverallResult, uuidV5 } from '../../../electron/reports/cfx';
import { neutraliseCell } from '../../../electron/reports/csv';
import { esc, formatMs } from '../../../electron/reports/html';
import { openHtfOutcome } from '../../../electron/reports/openhtf';
import { parseShiftStarts, shiftAt } from '../../../electron/reports/shifts';
import { distribution, percentile } from '../../../electron/reports/stats';
import { parseFormats } from '../../../electron/reports/write-report';

const at = (iso: string) => Date.parse(iso);

describe('shifts', () => {
  const starts = parseShiftStarts('06:00,14:00,22:00');

  it('cuts the UTC day at the start times, the last shift running into the next day', () => {
    expect(shiftAt(at('2026-11-25T06:00:00Z'), starts)).toMatchObject({
      shift: '06:00-14:00',
      date: '2026-11-25',
      start: '2026-11-25T06:00:00.000Z',
      end: '2026-11-25T14:00:00.000Z',
    });
    expect(shiftAt(at('2026-11-25T23:59:59Z'), starts)).toMatchObject({
      shift: '22:00-06:00',
      date: '2026-11-25',
    });
    // Before the first start of a day: still the previous day's night shift.
    expect(shiftAt(at('2026-11-26T05:59:59Z'), starts)).toMatchObject({
      shift: '22:00-06:00',
      date: '2026-11-25',
      end: '2026-11-26T06:00:00.000Z',
    });
  });

  it('takes any list of increasing times, one shift being the whole day', () => {
    expect(shiftAt(at('2026-11-25T03:00:00Z'), parseShiftStarts(['07:30']))).toMatchObject({
      shift: '07:30-07:30',
      date: '2026-11-24',
    });
    expect(parseShiftStarts(' 06:00 , 18:00 ')).toEqual(['06:00', '18:00']);
  });

  it('says what is wrong with a bad list', () => {
    expect(() => parseShiftStarts('6:00')).toThrow(/"6:00" is not a time like 06:00/);
    expect(() => parseShiftStarts('14:00,06:00')).toThrow(/"06:00" is not after the start before it/);
    expect(() => parseShiftStarts('')).toThrow(/no start time given/);
    expect(() => parseShiftStarts('24:00')).toThrow(/not a time/);
  });
});

describe('percentiles', () => {
  it('interpolate between closest ranks like PERCENTILE.INC', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(values, 50)).toBe(5.5);
    expect(percentile(values, 95)).toBeCloseTo(9.55, 10);
    expect(percentile([42], 95)).toBe(42);
    expect(distribution([30, 10, 20])).toEqual({
      count: 3,
      medianMs: 20,
      p95Ms: 29,
      minMs: 10,
      maxMs: 30,
      meanMs: 20,
    });
    expect(distribution([])).toBeNull();
  });
});

describe('CSV cells', () => {
  it('get a leading apostrophe when a spreadsheet would run them', () => {
    for (const value of ['=HYPERLINK("x")', '+1', '-2+3', '@SUM(A1)', '\tx', '\r=1'])
      expect(neutraliseCell(value)).toBe(`'${value}`);
    for (const value of ['SN-1', 'a=b', '', '2026-11-25T19:00:00.000+00:00', "'quoted"])
      expect(neutraliseCell(value)).toBe(value);
  });
});

describe('outcomes', () => {
  it('map the station states to OpenHTF and CFX results', () => {
    expect(
      ['passed', 'failed', 'attention', 'cancelled', 'voided', 'in-progress'].map((s) =>
        openHtfOutcome(s as never),
      ),
    ).toEqual(['PASS', 'FAIL', 'ERROR', 'ABORTED', 'ABORTED', null]);
    expect(
      ['passed', 'failed', 'attention', 'cancelled', 'voided', 'in-progress'].map((s) =>
        cfxOverallResult(s as never),
      ),
    ).toEqual(['Passed', 'Failed', 'Error', 'Aborted', 'Aborted', null]);
  });

  it('name CFX records with RFC 4122 version 5 UUIDs, the same for the same name', () => {
    const id = uuidV5('line1-station2/event/42');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV5('line1-station2/event/42')).toBe(id);
    expect(uuidV5('line1-station2/event/43')).not.toBe(id);
  });
});

describe('formats and text', () => {
  it('parses a format list, each once, and refuses unknown ones', () => {
    expect(parseFormats('pdf, CSV,pdf')).toEqual(['pdf', 'csv']);
    expect(() => parseFormats('csv,xlsx')).toThrow(/unknown report format "xlsx"/);
    expect(() => parseFormats(' , ')).toThrow(/no report format given/);
  });

  it('escapes what goes into the HTML and writes durations for people', () => {
    expect(esc('<b>"x" & \'y\'</b>')).toBe('&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;');
    expect([formatMs(815), formatMs(8_220), formatMs(41_234), formatMs(125_000), formatMs(null)]).toEqual([
      '815 ms',
      '8.22 s',
      '41.2 s',
      '2 min 05 s',
      '—',
    ]);
  });
});
