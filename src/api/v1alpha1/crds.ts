// CustomResourceDefinition objects built from the schemas. `npm run generate` writes them to crds/.
import {
  API_VERSION,
  GROUP,
  VERSION,
  clusterStackProviderSchema,
  stackProviderSchema,
  stackSchema,
} from './schemas.ts';
import type { JSONSchemaProps } from './schema-builders.ts';

interface CrdNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories: string[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    group: string;
    names: CrdNames;
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string; description?: string; priority?: number }[];
    }[];
  };
}

const readyStatus = '.status.conditions[?(@.type=="Ready")].status';
const readyReason = '.status.conditions[?(@.type=="Ready")].reason';

function crd(
  names: Omit<CrdNames, 'listKind' | 'categories'>,
  scope: 'Namespaced' | 'Cluster',
  schema: JSONSchemaProps,
  columns: CustomResourceDefinition['spec']['versions'][number]['additionalPrinterColumns'],
): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'stack-operator', 'app.kubernetes.io/part-of': 'stack-operator' },
      // Deleting a CRD deletes every object of it without admission (reliability.md 5.3): Helm keeps it.
      annotations: { 'helm.sh/resource-policy': 'keep' },
    },
    spec: {
      group: GROUP,
      names: { ...names, listKind: `${names.kind}List`, categories: ['stack-operator', 'stackoperator'] },
      scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: { status: {} },
          additionalPrinterColumns: columns,
        },
      ],
    },
  };
}

const providerColumns = [
  { name: 'Ready', type: 'string', jsonPath: readyStatus },
  { name: 'Reason', type: 'string', jsonPath: readyReason },
  { name: 'Type', type: 'string', jsonPath: '.status.type' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function buildCrds(): CustomResourceDefinition[] {
  return [
    crd({ kind: 'Stack', plural: 'stacks', singular: 'stack', shortNames: ['stk'] }, 'Namespaced', stackSchema, [
      { name: 'Stack ID', type: 'string', jsonPath: '.status.stackId' },
      { name: 'Status', type: 'string', jsonPath: '.status.stackStatus' },
      { name: 'Ready', type: 'string', jsonPath: readyStatus },
      { name: 'Reason', type: 'string', jsonPath: readyReason },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      // -o wide only: the plan awaiting approval (docs/plan-approve.md).
      { name: 'Plan', type: 'string', jsonPath: '.status.plan.id', description: 'Id of the plan awaiting approval or last made.', priority: 1 },
      { name: 'Plan Summary', type: 'string', jsonPath: '.status.plan.summaryText', description: 'What the plan adds, changes, replaces and removes.', priority: 1 },
    ]),
    crd({ kind: 'StackProvider', plural: 'stackproviders', singular: 'stackprovider' }, 'Namespaced', stackProviderSchema, providerColumns),
    crd(
      { kind: 'ClusterStackProvider', plural: 'clusterstackproviders', singular: 'clusterstackprovider' },
      'Cluster',
      clusterStackProviderSchema,
      providerColumns,
    ),
  ];
}

export { API_VERSION };
