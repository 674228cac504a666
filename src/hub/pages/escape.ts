// HTML escaping for the hub's pages. Every page is built with the `html` tag below, so interpolated values are
// escaped by default and only fragments explicitly marked as trusted (`raw`, or another `html` result) pass through.

const TEXT_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape for HTML text and for quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => TEXT_ENTITIES[c]!);
}

/**
 * Escape for attribute values (always written double-quoted). Beyond escapeHtml it encodes backticks, which old
 * browsers took as quotes, and control characters such as newlines and tabs, so the value stays on one line and reads
 * back exactly (the HTML parser would otherwise turn a CR into LF).
 */
export function escapeAttr(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`\u0000-\u001f\u007f]/g, (c) =>
    TEXT_ENTITIES[c] ?? `&#${c.codePointAt(0)};`,
  );
}

/** A fragment of markup that is already safe to insert as-is. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** Mark a trusted string (our own markup, scripts, CSS) as safe. Never pass user-supplied text. */
export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

export type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

// Tracks whether the literal markup so far leaves us inside a tag (then interpolations are attribute values and get
// the stricter escape). Only our own literals are scanned, never interpolated values.
interface ScanState {
  inTag: boolean;
  quote: string | null;
}

function scan(state: ScanState, literal: string): void {
  for (const c of literal) {
    if (!state.inTag) {
      if (c === '<') state.inTag = true;
    } else if (state.quote) {
      if (c === state.quote) state.quote = null;
    } else if (c === '"' || c === "'") {
      state.quote = c;
    } else if (c === '>') {
      state.inTag = false;
    }
  }
}

function render(value: Interpolation, inTag: boolean): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((v: Interpolation) => render(v, inTag)).join('');
  return inTag ? escapeAttr(value) : escapeHtml(value);
}

/** Tagged template for markup: `html\`<p title="${t}">${text}</p>\`` escapes t and text. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  const state: ScanState = { inTag: false, quote: null };
  let out = '';
  strings.forEach((literal, i) => {
    out += literal;
    scan(state, literal);
    if (i < values.length) out += render(values[i]!, state.inTag);
  });
  return new SafeHtml(out);
}
