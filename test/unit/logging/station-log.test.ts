import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStationLog } from '../../../electron/logging';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('station log', () => {
  it('writes JSON lines to one file per UTC day, owner/group readable only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'station-log-'));
    dirs.push(dir);
    let now = new Date('2026-11-25T23:59:59.500Z');
    const log = openStationLog({ dir: join(dir, 'logs'), stationId: 'st-1', now: () => now });
    log.logger.info({ event: 'one' });
    await new Promise((r) => setTimeout(r, 20));
    now = new Date('2026-11-26T00:00:00.100Z');
    log.logger.info({ event: 'two' });
    await log.close();
    const files = readdirSync(join(dir, 'logs')).sort();
    expect(files).toEqual(['station-2026-11-25.log', 'station-2026-11-26.log']);
    const first = JSON.parse(readFileSync(join(dir, 'logs', files[0]!), 'utf8').trim()) as Record<
      string,
      unknown
    >;
    expect(first).toMatchObject({ event: 'one', station: 'st-1', level: 30 });
    expect(statSync(join(dir, 'logs', files[0]!)).mode & 0o777).toBe(0o640);
  });

  it('redacts fields named like secrets, however they got there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'station-log-'));
    dirs.push(dir);
    const log = openStationLog({ dir, stationId: 'st-1' });
    log.logger.info({
      apiKey: 'ey-very-secret',
      nested: { token: 'tok-secret', networkKey: 'nk-secret' },
      headers: { authorization: 'Bearer x' },
    });
    await log.close();
    const text = readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8');
    for (const secret of ['ey-very-secret', 'tok-secret', 'nk-secret', 'Bearer x'])
      expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});
