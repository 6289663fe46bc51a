// `npm run generate`: writes crds/*.yaml from the API schemas (src/api/v1alpha1/schemas.ts).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from '../src/api/v1alpha1/render.ts';

const dir = join(import.meta.dirname, '..', 'crds');
mkdirSync(dir, { recursive: true });
const files = renderCrdFiles();
for (const name of readdirSync(dir)) {
  if (name.endsWith('.yaml') && !files.has(name)) rmSync(join(dir, name));
}
for (const [name, body] of files) writeFileSync(join(dir, name), body);
console.log(`wrote ${files.size} files to crds/`);
