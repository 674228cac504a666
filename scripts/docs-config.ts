// Writes docs/config.md from the settings each class declares (see src/config/generate.ts).
import { writeFileSync } from 'node:fs';
import { generateConfigDocs } from '../src/config/index.ts';

writeFileSync(new URL('../docs/config.md', import.meta.url), generateConfigDocs());
