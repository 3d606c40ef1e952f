/**
 * Columns x rows for n slots on a wide (16:9) screen: never more than 4 rows or 8 columns, so 32 slots fit a
 * 1920x1080 screen with tiles big enough for a 48 px PASS/FAIL.
 */
export function gridShape(n: number): { cols: number; rows: number } {
  const count = Math.max(1, n);
  const cols = count <= 4 ? count : count <= 8 ? 4 : count <= 12 ? 4 : count <= 15 ? 5 : count <= 24 ? 6 : 8;
  return { cols, rows: Math.ceil(count / cols) };
}
