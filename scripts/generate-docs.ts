// `npm run generate` (last step): the generated documents, docs/api.md and charts/stack-operator/README.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiReference } from './api-reference.ts';
import { renderChartReadme } from './chart-readme.ts';

const root = join(import.meta.dirname, '..');
writeFileSync(join(root, 'docs', 'api.md'), renderApiReference());
writeFileSync(join(root, 'charts', 'stack-operator', 'README.md'), renderChartReadme(root));
console.log('wrote docs/api.md and charts/stack-operator/README.md');
