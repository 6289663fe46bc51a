// The order of the integration and e2e files (they run one at a time, e2e first, largest first:
// vitest's BaseSequencer). Files that need something test/env/prebuild.sh installs or builds go last,
// in the order it builds them; every other file keeps its place. On a fresh machine the background
// prebuild then overlaps the files that need none of it, instead of the first such file building in
// the foreground while the whole sequential run waits behind it (measured: Argo CD's cold build held
// it 16 minutes; docs/test-environment.md). On a warm machine the order changes nothing else.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { repoRoot } from '../../src/devenv/paths.ts';

/** Path prefixes, in test/env/prebuild.sh's order: what each needs is ready in this order. */
export const NEEDS_PREBUILD = [
  // Debian: Heat + Keystone + PostgreSQL, the OpenStack CLI, lua5.1
  'test/e2e/heat/real-heat.test.ts',
  'test/e2e/heat/operator-real-heat.test.ts',
  'test/e2e/official-clients/openstack-cli-real-heat.test.ts',
  'test/e2e/official-clients/openstack-cli.test.ts',
  // helm (and lua5.1)
  'test/e2e/packaging/chart.test.ts',
  'test/e2e/packaging/chart-parity.test.ts',
  'test/e2e/packaging/helm-install.test.ts',
  'test/e2e/packaging/argocd-health.test.ts',
  // the Huawei Go SDK client, the controller-runtime twin, Argo CD
  'test/e2e/official-clients/rfs-go-sdk.test.ts',
  'test/integration/bench/twin.test.ts',
  'test/e2e/argocd/',
];

export function prebuildRank(moduleId: string): number {
  const rel = relative(repoRoot, moduleId);
  return NEEDS_PREBUILD.findIndex((p) => rel.startsWith(p));
}

export default class PrebuildLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, i) => ({ spec, i, rank: prebuildRank(spec.moduleId) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((x) => x.spec);
  }
}
