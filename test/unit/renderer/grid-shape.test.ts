/** The slot grid's shape: every slot has a cell, at most 4 rows and 8 columns, tiles as square as a wide screen allows. */
import { describe, expect, it } from 'vitest';
import { gridShape } from '../../../renderer/src/components/grid-shape';

describe('gridShape', () => {
  it('gives every slot from 1 to 32 a cell within 8 columns and 4 rows', () => {
    for (let n = 1; n <= 32; n++) {
      const { cols, rows } = gridShape(n);
      expect(cols * rows, `n=${n}`).toBeGreaterThanOrEqual(n);
      expect(cols * rows - n, `n=${n}: a whole empty row`).toBeLessThan(cols);
      expect(cols, `n=${n}`).toBeLessThanOrEqual(8);
      expect(rows, `n=${n}`).toBeLessThanOrEqual(4);
    }
  });

  it('puts up to four slots in one row, and 32 in 8 x 4', () => {
    expect(gridShape(1)).toEqual({ cols: 1, rows: 1 });
    expect(gridShape(4)).toEqual({ cols: 4, rows: 1 });
    expect(gridShape(16)).toEqual({ cols: 6, rows: 3 });
    expect(gridShape(32)).toEqual({ cols: 8, rows: 4 });
  });
});
