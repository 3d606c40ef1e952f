/** Turning a scanned label into fields, and fields into the metadata a recipe sends with POST /device. */
import {
  compileScanPattern,
  type Recipe,
  type ScanField,
  type ScanningConfig,
  type StationConfig,
} from './schema';

export type ScanMatch =
  { ok: true; format: string; fields: Partial<Record<ScanField, string>> } | { ok: false; message: string };

/** The first format whose pattern matches the whole scan wins; no match gives the configured operator message. */
export function matchScan(scanning: ScanningConfig, scan: string): ScanMatch {
  // Keyboard-wedge scanners end a scan with Enter; that is not part of the label. A loop, not /[\r\n]+$/: that
  // regex retries from every line break, so a scan of many line breaks took quadratic time (11 s for 100 KB).
  let end = scan.length;
  while (end > 0 && (scan[end - 1] === '\r' || scan[end - 1] === '\n')) end--;
  const text = scan.slice(0, end);
  for (const format of scanning.formats) {
    const groups = compileScanPattern(format.pattern).match(text);
    if (!groups) continue;
    const fields: Partial<Record<ScanField, string>> = {};
    for (const field of format.fills) {
      const value = groups[field];
      if (value !== undefined) fields[field] = value;
    }
    return { ok: true, format: format.name, fields };
  }
  return { ok: false, message: scanning.badScanMessage };
}

export type MetadataResult =
  { ok: true; metadata: Record<string, string> } | { ok: false; missing: string[]; message: string };

/**
 * The metadata for one unit: each field from the scan, the station or a constant. A required field without a
 * value refuses the unit (and names what to scan); an optional one is left out.
 */
export function resolveMetadata(
  recipe: Recipe,
  station: StationConfig['station'],
  scanned: Partial<Record<ScanField, string>>,
): MetadataResult {
  const metadata: Record<string, string> = {};
  const missing: string[] = [];
  for (const field of recipe.metadata) {
    const at = field.from.indexOf(':');
    const source = field.from.slice(0, at);
    const key = field.from.slice(at + 1);
    let value: string | undefined;
    if (source === 'const') value = key;
    else if (source === 'scan') value = scanned[key as ScanField];
    else if (source === 'station') value = station[key as 'id' | 'name' | 'line' | 'site'];
    if (value !== undefined && value !== '') metadata[field.name] = value;
    else if (field.required) missing.push(field.name);
  }
  if (missing.length > 0) {
    return { ok: false, missing, message: `missing ${missing.join(', ')}: scan the label that carries it` };
  }
  return { ok: true, metadata };
}
