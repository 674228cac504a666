// Small helpers for asserting on the hub's rendered pages. Our templates always double-quote attributes, which is
// what makes this tiny start-tag reader sufficient.

export interface StartTag {
  name: string;
  attrs: Record<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

export function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#(\d+));/g, (_m, name: string, code?: string) =>
    code ? String.fromCodePoint(Number(code)) : ENTITIES[name]!,
  );
}

/** All start tags in document order, with decoded attribute values. Script bodies are skipped. */
export function startTags(html: string): StartTag[] {
  const withoutScripts = html.replace(/<script>[\s\S]*?<\/script>/g, '<script></script>');
  const tags: StartTag[] = [];
  for (const m of withoutScripts.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?/g)) attrs[a[1]!] = decode(a[2] ?? '');
    tags.push({ name: m[1]!.toLowerCase(), attrs });
  }
  return tags;
}

export function tagsWhere(html: string, name: string, attrs: Record<string, string> = {}): StartTag[] {
  return startTags(html).filter((t) => t.name === name && Object.entries(attrs).every(([k, v]) => t.attrs[k] === v));
}

export function oneTag(html: string, name: string, attrs: Record<string, string> = {}): StartTag {
  const found = tagsWhere(html, name, attrs);
  if (found.length !== 1) throw new Error(`expected one <${name} ${JSON.stringify(attrs)}>, found ${found.length}`);
  return found[0]!;
}

/** Visible text with tags removed and entities decoded (scripts and styles dropped). */
export function textOf(html: string): string {
  return decode(
    html
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' '),
  ).trim();
}
