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
