// The hub benchmark's results: one row per measure with a cell per system, rendered as one Markdown table of medians,
// ranges, the nodehub ÷ JupyterHub ratio and the target for nodehub. A cell can also say that the system hit
// the step's time bound ("> 60 s") or failed.
import { formatMs, median } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';
import { LABELS, SYSTEMS } from './systems.ts';
import type { SystemKey } from './systems.ts';

export type Unit = 'ms' | 'MiB' | '/s';

interface Cell {
  samples: number[];
  /** The step's bound, in the row's unit, when the system did not finish within it. */
  over?: number;
  error?: string;
}

export interface Target {
  text: string;
  /** nodehub's median must be at most / at least this (in the row's unit) to meet the target. */
  max?: number;
  min?: number;
}

interface Row {
  measure: string;
  unit: Unit;
  target?: Target;
  cells: Record<SystemKey, Cell>;
}

function format(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'ms') return formatMs(value);
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)}/s`;
}

export class Results {
  private readonly rows: Row[] = [];
  readonly notes: string[] = [];

  /** The row for a measure, created (in first-use order) when new. */
  row(measure: string, unit: Unit, target?: Target): Row {
    let row = this.rows.find((r) => r.measure === measure);
    if (!row) {
      row = { measure, unit, target, cells: { jupyterhub: { samples: [] }, nodehub: { samples: [] } } };
      this.rows.push(row);
    }
    return row;
  }

  add(row: Row, system: SystemKey, value: number): void {
    if (Number.isFinite(value)) row.cells[system].samples.push(value);
  }

  over(row: Row, system: SystemKey, bound: number): void {
    row.cells[system].over = bound;
  }

  fail(row: Row, system: SystemKey, message: string): void {
    const cell = row.cells[system];
    if (!cell.error) {
      cell.error = message.split('\n')[0]!.slice(0, 200);
      this.notes.push(`${LABELS[system]}, ${row.measure}: failed: ${cell.error}`);
    }
  }

  /** nodehub's median meets the row's target? undefined when there is no target or no figure. */
  private met(row: Row): boolean | undefined {
    const cell = row.cells.nodehub;
    if (!row.target) return undefined;
    if (cell.over !== undefined) return false;
    if (cell.samples.length === 0) return undefined;
    const m = median(cell.samples);
    return (row.target.max === undefined || m <= row.target.max) && (row.target.min === undefined || m >= row.target.min);
  }

  render(): string {
    const value = (row: Row, cell: Cell): string => {
      if (cell.over !== undefined) return `> ${format(cell.over, row.unit)}`;
      if (cell.samples.length === 0) return cell.error ? 'failed' : 'n/a';
      return format(median(cell.samples), row.unit);
    };
    const range = (row: Row, cell: Cell): string => {
      if (cell.samples.length === 0) return '';
      const lo = Math.min(...cell.samples);
      const hi = Math.max(...cell.samples);
      return cell.samples.length === 1 ? '(1)' : `${format(lo, row.unit)} – ${format(hi, row.unit)} (${cell.samples.length})`;
    };
    const ratio = (row: Row): string => {
      const [ref, mine] = [row.cells.jupyterhub, row.cells.nodehub];
      if (mine.samples.length === 0 || mine.over !== undefined) return 'n/a';
      const m = median(mine.samples);
      if (ref.over !== undefined) return row.unit === '/s' ? `> ${(m / ref.over).toFixed(2)}×` : `< ${(m / ref.over).toFixed(3)}×`;
      if (ref.samples.length === 0) return 'n/a';
      const r = m / median(ref.samples);
      return `${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}×`;
    };
    const right = { align: 'right' as const };
    const table = markdownTable(
      ['measure', { title: LABELS.jupyterhub, ...right }, { title: 'range (n)', ...right }, { title: LABELS.nodehub, ...right },
        { title: 'range (n)', ...right }, { title: 'nodehub ÷ JupyterHub', ...right }, 'target (nodehub)', 'met'],
      this.rows.map((row) => {
        const met = this.met(row);
        return [
          row.measure,
          ...SYSTEMS.flatMap((s) => [value(row, row.cells[s]), range(row, row.cells[s])]),
          ratio(row),
          row.target?.text ?? '',
          met === undefined ? '' : met ? 'yes' : 'no',
        ];
      }),
    );
    return [table, '', ...this.notes.map((n) => `- ${n}`)].join('\n');
  }
}
