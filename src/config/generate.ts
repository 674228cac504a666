// `nodehub --generate-config`: the schema printed as a YAML file. Lines starting `##` explain; lines starting `# ` are
// settings at their default, ready to uncomment. Removing every `# ` prefix gives a file that loads as the defaults.
import { sections } from './schema.ts';
import type { TraitSpec } from './schema.ts';
import type { FieldSpec } from './declare.ts';

function traitLines(spec: TraitSpec): string[] {
  const lines = [`  ## ${spec.help}`, `  ## Type: ${spec.type.doc}`];
  const fields = (spec.type as { fields?: Record<string, FieldSpec> }).fields;
  if (fields) {
    lines.push('  ## Fields of each entry:');
    for (const [name, field] of Object.entries(fields)) {
      const note = field.required ? ', required' : field.default !== undefined ? `, default ${JSON.stringify(field.default)}` : '';
      lines.push(`  ##   ${name} (${field.type.doc}${note}): ${field.help}`);
    }
  }
  // JSON is valid YAML and keeps every default on one line.
  lines.push(`  # ${spec.name}: ${JSON.stringify(spec.default)}`);
  return lines;
}

export function generateConfig(): string {
  const out = [
    '# nodehub configuration file, written by `nodehub --generate-config`.',
    "# Keys are JupyterHub's class and trait names, so a Zero-to-JupyterHub `hub.config` block pastes in as is.",
    '# Every setting is shown at its default and commented out; uncomment what you change.',
    '# Command-line flags such as --JupyterHub.port=8001 override this file.',
    '',
  ];
  for (const section of sections.values()) {
    out.push(`## ${section.name}: ${section.help}`);
    if (section.parent) out.push(`## Also accepts every ${section.parent} setting, which it overrides for this class.`);
    out.push(`${section.name}:`);
    for (const spec of section.own.values()) out.push(...traitLines(spec), '');
  }
  return out.join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/config.md: every class and setting as a table, from the same declarations (`npm run docs:config` writes it). */
export function generateConfigDocs(): string {
  const out = [
    '# Configuration reference',
    '',
    '<!-- Written by `npm run docs:config` from the settings each class declares (src/*/settings.ts); do not edit. -->',
    '',
    "Keys are JupyterHub's class and trait names. A subclass accepts its parent's settings too, and its own value wins.",
    'Settings marked "nodehub:" are nodehub\'s own; the others mean what they mean in JupyterHub (or KubeSpawner).',
    '`nodehub --generate-config` writes the same list as a commented YAML file.',
    '',
  ];
  for (const section of sections.values()) {
    out.push(`## ${section.name}`, '', section.help + (section.parent ? ` Inherits every ${section.parent} setting.` : ''), '');
    out.push('| setting | type | default | what it does |', '|---|---|---|---|');
    for (const spec of section.own.values()) {
      const names = [spec.name, ...spec.deprecated.map((d) => `${d} (deprecated)`)].map((n) => `\`${n}\``).join('<br>');
      out.push(`| ${names} | ${cell(spec.type.doc)} | \`${cell(JSON.stringify(spec.default))}\` | ${cell(spec.help)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
