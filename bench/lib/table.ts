// Markdown tables for benchmark reports: pasted into commits and READMEs, so they must render on GitHub as is.

export type Align = 'left' | 'right';

export interface Column {
  title: string;
  align?: Align;
}

function cell(text: string): string {
  // A pipe or newline inside a cell would break the table's shape.
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownTable(columns: readonly (Column | string)[], rows: readonly (readonly string[])[]): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { title: c } : c));
  if (cols.length === 0) throw new Error('a table needs at least one column');
  for (const [i, row] of rows.entries()) {
    if (row.length !== cols.length) throw new Error(`row ${i} has ${row.length} cells, expected ${cols.length}`);
  }
  const body = [cols.map((c) => cell(c.title)), ...rows.map((r) => r.map(cell))];
  const widths = cols.map((_, i) => Math.max(3, ...body.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) =>
    cols[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const line = (r: readonly string[]) => `| ${r.map(pad).join(' | ')} |`;
  const rule = `| ${cols.map((c, i) => (c.align === 'right' ? '-'.repeat(widths[i]! - 1) + ':' : '-'.repeat(widths[i]!))).join(' | ')} |`;
  return [line(body[0]!), rule, ...body.slice(1).map(line)].join('\n');
}
