// batchspawner's format_template: a template holding `{{` or `{%` is rendered as Jinja, any other with Python's
// str.format (so old `{partition}` scripts keep working; the two cannot be mixed). The Jinja side is the subset batch
// scripts use: `{{ name }}`, `{% if %}` / `{% elif %}` / `{% else %}` / `{% endif %}` over names with `not`, `and`,
// `or`, `==` / `!=` against a quoted string, `{# comments #}` and the `-` whitespace trims. Anything else is an error
// naming the setting, never a silently different script.

export type Vars = Record<string, unknown>;

export class TemplateError extends Error {}

/** Python's str() of a value, as both renderers print it. */
function show(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** Python truthiness; a name the variables lack is Jinja's Undefined, which is false. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

export function formatTemplate(template: string, vars: Vars, what: string): string {
  return template.includes('{{') || template.includes('{%') ? renderJinja(template, vars, what) : pyFormat(template, vars, what);
}

/** str.format with plain names (`{name}`, `{name!s}`, `{name:fmt}` print the value as is); `{{`/`}}` escapes. */
function pyFormat(template: string, vars: Vars, what: string): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}|[{}]/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    if (field === undefined) throw new TemplateError(`${what}: single '${m}' in the template (write '${m}${m}' for a literal one)`);
    const name = field.split(/[!:]/)[0]!.trim();
    if (!Object.hasOwn(vars, name)) throw new TemplateError(`${what}: {${field}} names no field; fields are ${Object.keys(vars).sort().join(', ')}`);
    return show(vars[name]);
  });
}

type Node = { text: string } | { expr: string } | { branches: { cond: string | null; body: Node[] }[] };

const TAG = /\{\{(-?)([\s\S]*?)(-?)\}\}|\{%(-?)([\s\S]*?)(-?)%\}|\{#[\s\S]*?#\}/g;

function renderJinja(template: string, vars: Vars, what: string): string {
  // Tokenize, applying the `-` trims to the neighbouring text.
  const tokens: ({ text: string } | { expr: string } | { stmt: string })[] = [];
  let last = 0;
  let trimNext = false;
  for (const m of template.matchAll(TAG)) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-' || m[4] === '-') text = text.replace(/\s+$/, '');
    tokens.push({ text });
    if (m[2] !== undefined) tokens.push({ expr: m[2].trim() });
    else if (m[5] !== undefined) tokens.push({ stmt: m[5].trim() });
    trimNext = m[3] === '-' || m[6] === '-';
    last = m.index + m[0].length;
  }
  let tail = template.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  tokens.push({ text: tail });

  let i = 0;
  const parse = (inIf: boolean): Node[] => {
    const out: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i]!;
      if ('text' in tok) { out.push(tok); i++; continue; }
      if ('expr' in tok) { out.push(tok); i++; continue; }
      const [kw, ...rest] = tok.stmt.split(/\s+/);
      if (kw === 'if') {
        i++;
        const branches: { cond: string | null; body: Node[] }[] = [{ cond: rest.join(' '), body: parse(true) }];
        for (;;) {
          const end = tokens[i] as { stmt?: string } | undefined;
          const [k, ...r] = (end?.stmt ?? '').split(/\s+/);
          i++;
          if (k === 'endif') break;
          if (k === 'elif') branches.push({ cond: r.join(' '), body: parse(true) });
          else if (k === 'else') branches.push({ cond: null, body: parse(true) });
          else throw new TemplateError(`${what}: {% if %} without {% endif %}`);
        }
        out.push({ branches });
        continue;
      }
      if (inIf && (kw === 'elif' || kw === 'else' || kw === 'endif')) return out;
      throw new TemplateError(`${what}: {% ${tok.stmt} %} is not supported (nodehub renders {{ name }} and {% if %}/{% elif %}/{% else %}/{% endif %})`);
    }
    return out;
  };
  const tree = parse(false);
  const render = (nodes: Node[]): string => nodes.map((n) => {
    if ('text' in n) return n.text;
    if ('expr' in n) return show(value(n.expr, vars, what) ?? '');
    const hit = n.branches.find((b) => b.cond === null || truthy(condition(b.cond, vars, what)));
    return hit ? render(hit.body) : '';
  }).join('');
  // Jinja's keep_trailing_newline=False: one final newline is dropped
  return render(tree).replace(/\n$/, '');
}

/** A name, or a quoted string literal. Unknown names are undefined (Jinja's Undefined prints as ''). */
function value(expr: string, vars: Vars, what: string): unknown {
  const lit = /^(['"])(.*)\1$/.exec(expr);
  if (lit) return lit[2];
  if (!/^[A-Za-z_]\w*$/.test(expr)) throw new TemplateError(`${what}: {{ ${expr} }} is not supported (nodehub renders plain names)`);
  return Object.hasOwn(vars, expr) ? vars[expr] : undefined;
}

function condition(expr: string, vars: Vars, what: string): boolean {
  const or = splitWord(expr, 'or');
  if (or.length > 1) return or.some((e) => condition(e, vars, what));
  const and = splitWord(expr, 'and');
  if (and.length > 1) return and.every((e) => condition(e, vars, what));
  const trimmed = expr.trim();
  if (/^not\s/.test(trimmed)) return !condition(trimmed.slice(4), vars, what);
  const cmp = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(trimmed);
  if (cmp) {
    const eq = show(value(cmp[1]!.trim(), vars, what) ?? '') === show(value(cmp[3]!.trim(), vars, what) ?? '');
    return cmp[2] === '==' ? eq : !eq;
  }
  return truthy(value(trimmed, vars, what));
}

/** Splits on a keyword outside quotes. */
function splitWord(expr: string, word: string): string[] {
  const parts: string[] = [];
  let quote = '';
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) { if (c === quote) quote = ''; continue; }
    if (c === '"' || c === "'") { quote = c; continue; }
    if (expr.startsWith(` ${word} `, i)) {
      parts.push(expr.slice(start, i));
      start = i + word.length + 2;
      i = start - 1;
    }
  }
  parts.push(expr.slice(start));
  return parts;
}

/** Quotes a value for /bin/sh unless it is made only of characters the shell leaves alone. */
export function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}
