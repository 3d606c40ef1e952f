/** Scan patterns run on a linear-time engine: no pattern can hang a check or a scan, and patterns keep their meaning. */
import { describe, expect, it } from 'vitest';
import {
  checkStationConfig,
  compileScanPattern,
  formatProblem,
  matchScan,
  scanPatternGroups,
  type ScanningConfig,
} from '../../../station-config/index';
import { at, production } from './fixtures';

const lines = (config: unknown): string[] => checkStationConfig(config).problems.map(formatProblem);

// Nested quantifiers: a backtracking engine tries every way to split the a's before it gives up at the '!'.
const CATASTROPHIC = '(?<serialNumber>(a+)+)$';

function scanning(...formats: Array<{ pattern: string; fills: ScanningConfig['formats'][number]['fills'] }>) {
  return {
    formats: formats.map((f, i) => ({ name: `format-${i}`, example: '', ...f })),
    badScanMessage: 'not recognised',
  } satisfies ScanningConfig;
}

function elapsedMs(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

describe('catastrophic patterns finish', () => {
  // The only timing assertions in this suite, because they guard a hang: with JavaScript's RegExp these took
  // about 5 s at 30 characters and doubled with each further one, so minutes to hours at 40 and never at 10,000.
  it('config check runs the pattern against a 40-character example in well under a second', () => {
    const config = production();
    const format = at(config, 'scanning.formats.0');
    format.pattern = CATASTROPHIC;
    format.example = `${'a'.repeat(39)}!`;
    let problems: string[] = [];
    expect(elapsedMs(() => (problems = lines(config)))).toBeLessThan(1000);
    expect(problems).toEqual([
      '$.scanning.formats[0].example: does not match the pattern (the whole scan must match) (e.g. "SN:AB12345678" for the pattern "SN:(?<serialNumber>[A-Z0-9]{10})")',
    ]);
  });

  it('the longest example a config may hold (500 characters) is checked as quickly', () => {
    const config = production();
    const format = at(config, 'scanning.formats.0');
    format.pattern = CATASTROPHIC;
    format.example = `${'a'.repeat(499)}!`;
    expect(elapsedMs(() => expect(lines(config)).toHaveLength(1))).toBeLessThan(1000);
  });

  it('a scan of 40 and of 10,000 characters is matched in well under a second', () => {
    const config = scanning({ pattern: CATASTROPHIC, fills: ['serialNumber'] });
    for (const length of [40, 10_000]) {
      expect(
        elapsedMs(() => expect(matchScan(config, `${'a'.repeat(length - 1)}!`).ok).toBe(false)),
      ).toBeLessThan(1000);
      let match: ReturnType<typeof matchScan> | undefined;
      expect(elapsedMs(() => (match = matchScan(config, 'a'.repeat(length))))).toBeLessThan(1000);
      expect(match).toEqual({ ok: true, format: 'format-0', fields: { serialNumber: 'a'.repeat(length) } });
    }
  });
});

describe('trailing line breaks', () => {
  it('are stripped from a scan in linear time, even from a scan made of line breaks', () => {
    const config = scanning({ pattern: 'SN:(?<serialNumber>[A-Z0-9]{10})', fills: ['serialNumber'] });
    expect(matchScan(config, 'SN:AB12345678\r\n\n').ok).toBe(true);
    // Guards a hang too: the old /[\r\n]+$/ retried from every line break and took about 11 s here.
    const flood = `${'\r\n'.repeat(50_000)}x`;
    expect(elapsedMs(() => expect(matchScan(config, flood).ok).toBe(false))).toBeLessThan(1000);
  });
});

describe('what the linear-time engine cannot express is refused by the checker', () => {
  const checked = (pattern: string): string[] => {
    const config = production();
    at(config, 'scanning.formats.0').pattern = pattern;
    return lines(config);
  };

  it('a lookahead, with what to write instead', () => {
    expect(checked('(?=SN:)SN:(?<serialNumber>[A-Z0-9]{10})')).toEqual([
      '$.scanning.formats[0].pattern: uses a lookahead "(?=...)", but scan patterns are matched in linear time (RE2), ' +
        'which has no lookarounds or backreferences ' +
        '(e.g. "SN:(?<serialNumber>[A-Z0-9]{10})", matching the text a lookaround would only have looked at)',
    ]);
  });

  it('negative lookaheads and lookbehinds, each named', () => {
    expect(checked('SN:(?!0)(?<serialNumber>[A-Z0-9]{10})')[0]).toContain(
      'uses a negative lookahead "(?!...)"',
    );
    expect(checked('SN:(?<serialNumber>(?<=SN:)[A-Z0-9]{10})')[0]).toContain('uses a lookbehind "(?<=...)"');
    expect(checked('SN:(?<serialNumber>(?<!X)[A-Z0-9]{10})')[0]).toContain(
      'uses a negative lookbehind "(?<!...)"',
    );
  });

  it('a named backreference, with what to write instead', () => {
    expect(checked('SN:(?<serialNumber>[A-Z]{2})\\k<serialNumber>')).toEqual([
      '$.scanning.formats[0].pattern: uses a backreference "\\k<serialNumber>", but scan patterns are matched in ' +
        'linear time (RE2), which has no lookarounds or backreferences ' +
        '(e.g. "(?<batchCode>[A-Z]{2})-[A-Z]{2}", repeating what the group matches instead of referring back to it)',
    ]);
  });

  it('a numbered backreference', () => {
    expect(checked('SN:(?<serialNumber>([A-Z])\\2[0-9]{8})')[0]).toContain('uses a backreference "\\2"');
  });

  it('other JavaScript syntax RE2 lacks is refused with the engine’s reason, not accepted and misread', () => {
    expect(checked('SN:(?<serialNumber>\\p{Letter}{10})')).toEqual([
      '$.scanning.formats[0].pattern: uses syntax that the linear-time engine for scan patterns (RE2) does not support ' +
        '(invalid character class range: \\p{Letter}) (e.g. "SN:(?<serialNumber>[A-Z0-9]{10})")',
    ]);
  });

  it('the same characters inside a class or escaped are not lookarounds or backreferences', () => {
    const config = production();
    const format = at(config, 'scanning.formats.0');
    format.pattern = 'SN:(?<serialNumber>[(?=!<]\\(\\?=[\\\\1]{2}\\\\1)';
    format.example = 'SN:!(?=1\\\\1';
    expect(lines(config)).toEqual([]);
  });
});

describe('patterns keep their meaning', () => {
  it('named groups fill their fields; an optional group that took no part fills nothing', () => {
    const config = scanning(
      { pattern: 'SN:(?<serialNumber>[A-Z0-9]{10})', fills: ['serialNumber'] },
      {
        pattern: '(?<productCode>[A-Z]{3})\\|(?<hardwareRevision>[A-Z])(?:\\|(?<batchCode>\\d{4}))?',
        fills: ['productCode', 'hardwareRevision', 'batchCode'],
      },
    );
    expect(matchScan(config, 'SN:AB12345678\r\n')).toEqual({
      ok: true,
      format: 'format-0',
      fields: { serialNumber: 'AB12345678' },
    });
    expect(matchScan(config, 'SNS|B|2024')).toEqual({
      ok: true,
      format: 'format-1',
      fields: { productCode: 'SNS', hardwareRevision: 'B', batchCode: '2024' },
    });
    expect(matchScan(config, 'SNS|B')).toEqual({
      ok: true,
      format: 'format-1',
      fields: { productCode: 'SNS', hardwareRevision: 'B' },
    });
    expect(scanPatternGroups(config.formats[1]!.pattern)).toEqual([
      'productCode',
      'hardwareRevision',
      'batchCode',
    ]);
  });

  it('labels with "-", ".", "/" and lower case match, whether "/" is escaped or not', () => {
    for (const pattern of [
      '(?<productCode>[a-z]{2}-\\d{2}\\.\\d)/(?<batchCode>[a-z0-9.-]+)',
      '(?<productCode>[a-z]{2}-\\d{2}\\.\\d)\\/(?<batchCode>[a-z0-9.\\-]+)',
    ]) {
      const config = scanning({ pattern, fills: ['productCode', 'batchCode'] });
      expect(matchScan(config, 'ab-12.3/lot.7-b')).toEqual({
        ok: true,
        format: 'format-0',
        fields: { productCode: 'ab-12.3', batchCode: 'lot.7-b' },
      });
      expect(matchScan(config, 'AB-12.3/lot.7-b').ok).toBe(false);
      expect(matchScan(config, 'ab-12x3/lot.7-b').ok).toBe(false);
    }
  });

  it('the whole scan must match, also with alternatives at the top level', () => {
    const pattern = compileScanPattern('(?<workOrder>a|ab)');
    expect(pattern.match('ab')).toEqual({ workOrder: 'ab' });
    expect(pattern.test('abc')).toBe(false);
    expect(pattern.test('xab')).toBe(false);
    // Closing the anchoring group from inside the pattern is a syntax error, not a way to match a prefix.
    expect(checkStationConfig(withPattern('a)|(?<serialNumber>b')).problems.map(formatProblem)).toEqual([
      '$.scanning.formats[0].pattern: must be a valid regular expression (e.g. "SN:(?<serialNumber>[A-Z0-9]{10})")',
    ]);
  });

  it('Unicode: code points, escapes and JavaScript’s "." and "\\s"', () => {
    expect(compileScanPattern('.').test('😀')).toBe(true);
    expect(compileScanPattern('\\u{1F600}\\uD83D\\uDE00').test('😀😀')).toBe(true);
    expect(compileScanPattern('\\p{Script=Greek}+').test('αβγ')).toBe(true);
    expect(compileScanPattern('.').test('\r')).toBe(false);
    expect(compileScanPattern('a\\sb').test('a\u3000b')).toBe(true);
    expect(compileScanPattern('[^]').test('\n')).toBe(true);
    expect(compileScanPattern('[]').test('')).toBe(false);
    // In JavaScript "[:a]" inside a class is three characters, not a POSIX class.
    expect(compileScanPattern('[[:a]+').test('[:a')).toBe(true);
  });
});

function withPattern(pattern: string) {
  const config = production();
  at(config, 'scanning.formats.0').pattern = pattern;
  return config;
}
