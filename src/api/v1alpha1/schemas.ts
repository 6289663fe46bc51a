// The v1alpha1 API as OpenAPI v3 schemas: the single source from which crds/*.yaml is generated
// (`npm run generate`) and against which ajv validates in process. types.ts mirrors these shapes
// for TypeScript; test/unit/api keeps the two and the samples in step.
import {
  anyValue,
  arr,
  bool,
  duration,
  enumOf,
  exactlyOne,
  freeObject,
  int,
  type JSONSchemaProps,
  num,
  obj,
  str,
  stringMap,
} from './schema-builders.ts';

export const GROUP = 'stackoperator.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const MAX_TEMPLATE_BYTES = 512 * 1024;
export const MAX_PARAMETERS = 200;
export const MAX_TAGS = 20;
export const STACK_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]*$';

const dnsName = (description: string): JSONSchemaProps =>
  str(description, { minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' });

const conditions = arr(
  'Conditions in the kstatus convention: Ready (summary), Reconciling (work in progress) and Stalled ' +
    '(a failure that needs a change to the spec, a credential or an explicit retry).',
  obj(
    'A condition of the object, as metav1.Condition.',
    {
      type: str('Type of the condition: Ready, Reconciling or Stalled.', { maxLength: 316 }),
      status: enumOf('Status of the condition: True, False or Unknown.', ['True', 'False', 'Unknown']),
      observedGeneration: int('The metadata.generation the condition was computed from.', { minimum: 0 }),
      lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
      reason: str('A CamelCase reason from a fixed set, for machines.', {
        maxLength: 1024,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      }),
      message: str('A human-readable message; provider errors are truncated and never carry secrets.', {
        maxLength: 32768,
      }),
    },
    { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
  ),
  { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);

// ---------------------------------------------------------------------------------------------
// StackProvider / ClusterStackProvider

function secretRef(cluster: boolean): JSONSchemaProps {
  return obj(
    'The Secret holding the credentials. Keys by provider type: heat: username + password, or ' +
      'applicationCredentialId + applicationCredentialSecret (or applicationCredentialName + username); ' +
      'rfs: accessKeyId + secretAccessKey (+ securityToken for temporary credentials); ros: accessKeyId + ' +
      'accessKeySecret (+ securityToken); cloudFoundry: clientId + clientSecret, or username + password ' +
      '(+ clientId, default "cf").',
    {
      name: dnsName('Name of the Secret.'),
      namespace: dnsName(
        cluster
          ? 'Namespace of the Secret (required for a ClusterStackProvider).'
          : 'Ignored for a StackProvider: the Secret is read from the provider\'s own namespace.',
      ),
    },
    { required: cluster ? ['name', 'namespace'] : ['name'] },
  );
}

function providerSpec(cluster: boolean): JSONSchemaProps {
  const creds = secretRef(cluster);
  const heat = obj(
    'OpenStack Heat v1 (also Huawei Cloud / Open Telekom Cloud RTS), authenticated with Keystone v3.',
    {
      authUrl: str('Keystone v3 URL, e.g. https://keystone.example.com/v3.', { minLength: 1, maxLength: 2048 }),
      endpoint: str(
        'Explicit orchestration endpoint (…/v1/{project_id}); when empty it is taken from the Keystone service catalog.',
        { maxLength: 2048 },
      ),
      region: str('Region used to pick the orchestration endpoint from the catalog.', { maxLength: 255 }),
      interface: enumOf('Catalog endpoint interface.', ['public', 'internal', 'admin'], 'public'),
      projectName: str('Project (tenant) to scope password tokens to.', { maxLength: 255 }),
      projectId: str('Project id to scope password tokens to (instead of projectName).', { maxLength: 255 }),
      projectDomainName: str('Domain of the project.', { maxLength: 255, default: 'Default' }),
      userDomainName: str('Domain of the user.', { maxLength: 255, default: 'Default' }),
      credentialsSecretRef: creds,
    },
    { required: ['authUrl', 'credentialsSecretRef'] },
  );
  const rfs = obj(
    'Huawei Cloud RFS (Resource Formation Service) v1, authenticated by SDK-HMAC-SHA256 AK/SK signing.',
    {
      endpoint: str('Service endpoint; defaults to https://aos.{region}.myhuaweicloud.com.', { maxLength: 2048 }),
      region: str('Region, e.g. cn-north-4.', { minLength: 1, maxLength: 64 }),
      projectId: str('Project id that owns the stacks.', { minLength: 1, maxLength: 64 }),
      credentialsSecretRef: creds,
    },
    { required: ['region', 'projectId', 'credentialsSecretRef'] },
  );
  const ros = obj(
    'Alibaba Cloud ROS (Resource Orchestration Service).',
    {
      endpoint: str('Service endpoint; defaults to https://ros.aliyuncs.com.', { maxLength: 2048 }),
      regionId: str('Region, e.g. cn-hangzhou.', { minLength: 1, maxLength: 64 }),
      apiVersion: enumOf(
        'API version: 2019-09-10 (RPC, current) or 2015-09-01 (legacy REST).',
        ['2019-09-10', '2015-09-01'],
        '2019-09-10',
      ),
      signatureVersion: enumOf(
        'Request signature for the RPC API: ACS3-HMAC-SHA256 (what current SDKs send) or the RPC signature v1 (HMAC-SHA1).',
        ['ACS3-HMAC-SHA256', 'HMAC-SHA1'],
        'ACS3-HMAC-SHA256',
      ),
      credentialsSecretRef: creds,
    },
    { required: ['regionId', 'credentialsSecretRef'] },
  );
  const cloudFoundry = obj(
    'Cloud Foundry v3: a Stack is an app whose changes roll out as deployments.',
    {
      apiUrl: str('Cloud Controller URL, e.g. https://api.cf.example.com.', { minLength: 1, maxLength: 2048 }),
      uaaUrl: str('UAA URL; discovered from the Cloud Controller root document when empty.', { maxLength: 2048 }),
      spaceGuid: str('Space in which apps are created.', { minLength: 1, maxLength: 64 }),
      credentialsSecretRef: creds,
    },
    { required: ['apiUrl', 'spaceGuid', 'credentialsSecretRef'] },
  );
  const blocks = ['heat', 'rfs', 'ros', 'cloudFoundry'];
  return obj(
    'Connection settings of one stack service. Exactly one of heat, rfs, ros or cloudFoundry is set.',
    {
      heat,
      rfs,
      ros,
      cloudFoundry,
      allowPlainHTTP: bool(
        'Allow plain http:// endpoints (authUrl, endpoint, apiUrl, uaaUrl and endpoints discovered from them). Off by default: credentials, tokens and signatures would cross the network unencrypted. Meant for the local emulator and tests.',
        false,
      ),
      tls: obj('TLS settings for the service endpoints.', {
        caBundle: str('PEM CA bundle trusted in addition to the system roots (Node.js bundled root certificates).', { maxLength: 262144 }),
        insecureSkipVerify: bool('Skip TLS verification (tests only).', false),
      }),
      rateLimit: obj(
        'Client-side request rate limit, shared by every Stack that uses this provider.',
        {
          qps: num('Sustained requests per second.', { minimum: 0.01, maximum: 10000, default: 10 }),
          burst: int('Requests allowed in a burst.', { minimum: 1, maximum: 10000, default: 20 }),
        },
        { 'x-kubernetes-validations': [{ rule: '!has(self.qps) || self.qps >= 0.01', message: 'rateLimit.qps must be at least 0.01', fieldPath: '.qps' }] },
      ),
      // Floors keep one tenant's provider from costing everyone workers and provider calls. No CRD
      // default: unset means the operator's --poll-interval / --resync-interval, so a platform team sets
      // the fleet's defaults in one place.
      pollInterval: duration("How often a Stack with a running operation is polled. Unset: the operator's --poll-interval (default 5s).", undefined, '200ms'),
      resyncInterval: duration(
        "How often a Stack at rest is re-read to detect drift (jittered). Unset: the operator's --resync-interval (default 10m).",
        undefined,
        '30s',
      ),
      adoption: enumOf(
        'Whether Stacks using this provider may adopt an existing cloud stack with the stackoperator.dev/adopt annotation. ' +
          'Allowed: an unowned stack, or one whose owning Stack no longer exists (e.g. left by deletionPolicy Retain), may be adopted; ' +
          'a stack owned by a live Stack never is. Disallowed: the annotation is refused (Stalled/StackNameConflict). ' +
          (cluster
            ? 'Default Disallowed: the credentials are shared by every namespace, so one tenant must not take over stacks another created.'
            : 'Default Allowed: the namespace owns these credentials.'),
        ['Allowed', 'Disallowed'],
        cluster ? 'Disallowed' : 'Allowed',
      ),
      ...(cluster
        ? {
            namespaceSelector: obj(
              'Namespaces whose Stacks may use this provider (a label selector on the Namespace). Absent: every namespace. ' +
                'A Stack in a namespace it does not select is Stalled with reason ProviderNotAllowed.',
              {
                matchLabels: stringMap('Labels the namespace must carry, all of them.'),
                matchExpressions: arr(
                  'Label requirements, all of which must hold.',
                  obj(
                    'A label requirement.',
                    {
                      key: str('The label key.', { minLength: 1, maxLength: 317 }),
                      operator: enumOf('In, NotIn, Exists or DoesNotExist.', ['In', 'NotIn', 'Exists', 'DoesNotExist']),
                      values: arr('Values for In / NotIn (non-empty); empty for Exists / DoesNotExist.', str('A value.', { maxLength: 63 }), { maxItems: 64 }),
                    },
                    {
                      required: ['key', 'operator'],
                      'x-kubernetes-validations': [
                        {
                          rule: "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
                          message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
                        },
                      ],
                    },
                  ),
                  { maxItems: 32 },
                ),
              },
            ),
          }
        : {}),
    },
    {
      'x-kubernetes-validations': [
        exactlyOne(blocks, 'exactly one of spec.heat, spec.rfs, spec.ros or spec.cloudFoundry must be set'),
        {
          rule: blocks.map((b) => `has(self.${b}) == has(oldSelf.${b})`).join(' && '),
          message: 'the provider type cannot change; create a new provider object instead',
        },
      ],
    },
  );
}

const providerStatus = obj('Observed state of the provider.', {
  observedGeneration: int('The metadata.generation last processed.', { minimum: 0 }),
  conditions,
  type: str('Provider type: heat, rfs, ros or cloudfoundry.'),
  lastCheckedTime: str('When the credentials and endpoint were last checked.', { format: 'date-time' }),
});

export function providerSchema(cluster: boolean): JSONSchemaProps {
  const kind = cluster ? 'ClusterStackProvider' : 'StackProvider';
  return obj(
    cluster
      ? 'ClusterStackProvider: a stack service usable by Stacks in every namespace (credentials Secret in a named namespace).'
      : 'StackProvider: a stack service usable by Stacks in its own namespace.',
    {
      apiVersion: str('APIVersion of this object.'),
      kind: str(`Kind of this object: ${kind}.`),
      metadata: { type: 'object' },
      spec: providerSpec(cluster),
      status: providerStatus,
    },
    { required: ['spec'] },
  );
}

// ---------------------------------------------------------------------------------------------
// Stack

const configMapKeyRef = obj(
  'A key of a ConfigMap in the Stack\'s namespace.',
  { name: dnsName('Name of the ConfigMap.'), key: str('Key in the ConfigMap.', { minLength: 1, maxLength: 253 }) },
  { required: ['name', 'key'] },
);

const template = obj(
  'The template: exactly one of inline, configMapRef or url. At most 512 KiB. One unit for server-side apply ' +
    '(x-kubernetes-map-type: atomic): an apply that sets it replaces all of it, and its field manager owns all of it.',
  {
    inline: {
      ...anyValue('The template itself, as an object (HOT / ROS / RFS JSON) or a string (YAML or JSON text, kept verbatim). At most 512 KiB.'),
      maxLength: MAX_TEMPLATE_BYTES,
    },
    configMapRef: configMapKeyRef,
    url: str('An https URL the provider fetches the template from (Heat template_url, ROS TemplateURL, RFS template_uri).', {
      minLength: 1,
      maxLength: 2048,
      pattern: '^https?://',
    }),
  },
  {
    // Atomic: the template is one document from one source, replaced whole by server-side apply and
    // owned whole in managedFields. Granular, the API server tracked every leaf of an object template
    // on every write of the Stack, status included: a third to a half of its CPU per write (~4 KiB template)
    // (test/bench/write-cost.ts; docs/benchmarks.md, tenth round). Merge patches are unaffected.
    'x-kubernetes-map-type': 'atomic',
    // `inline` has no declared type (object or string), so CEL cannot see it: presence is checked with
    // oneOf over `required`, which structural schemas allow, and the size of a string template with
    // maxLength inside the branch. The operator re-checks the size of object templates.
    oneOf: [
      { required: ['inline'] },
      { required: ['configMapRef'] },
      { required: ['url'] },
    ],
  },
);

const parametersFrom = arr(
  'Parameters read from Secrets, ConfigMaps or the outputs of other Stacks in the Stack\'s namespace, merged ' +
    'under spec.parameters (spec.parameters wins). Secrets and ConfigMaps are not watched: a change to one is ' +
    'applied at the next reconcile (the provider\'s resyncInterval at the latest), or at once after setting the ' +
    'annotation stackoperator.dev/reconcile-requested-at to a new value. A Stack source is watched (its output ' +
    'changes are applied at once) and is also a dependency (see spec.dependsOn and docs/dependencies.md). ' +
    'Secret values must be UTF-8 text; the merged parameters may hold at most 256 KiB.',
  obj(
    'One source of parameters.',
    {
      kind: enumOf(
        'Kind of the source: Secret, ConfigMap, or Stack (a non-sensitive output of another Stack, read from its ' +
          'status.outputs once it is Ready at its current generation).',
        ['Secret', 'ConfigMap', 'Stack'],
      ),
      name: dnsName('Name of the Secret, ConfigMap or Stack (same namespace).'),
      key: str(
        'Key to read; when empty every key becomes a parameter of the same name. For kind Stack: the output name ' +
          '(required; sensitive outputs are never wired, see docs/dependencies.md).',
        { maxLength: 253 },
      ),
      parameter: str('Parameter name for the key (defaults to the key). Only with key.', { maxLength: 255 }),
      optional: bool('Do not fail when the object or key is missing. Not allowed for kind Stack (a dependency is waited for).', false),
    },
    {
      required: ['kind', 'name'],
      'x-kubernetes-validations': [
        { rule: '!has(self.parameter) || has(self.key)', message: 'parameter needs key' },
        { rule: "self.kind != 'Stack' || has(self.key)", message: 'a kind: Stack source needs key (the name of an output of that Stack)', fieldPath: '.key' },
        {
          rule: "self.kind != 'Stack' || !has(self.optional) || !self.optional",
          message: 'optional is not supported for kind: Stack (the Stack waits for its dependency instead)',
          fieldPath: '.optional',
        },
      ],
    },
  ),
  { maxItems: 50 },
);

/** Most Stacks one Stack may list in spec.dependsOn (docs/dependencies.md). */
export const MAX_DEPENDS_ON = 32;

const dependsOn = arr(
  'Stacks in the same namespace that must be Ready (at their current generation) before this Stack is created ' +
    'or updated; while one is not, this Stack reports Reconciling=True reason WaitingForDependencies. A Stack that ' +
    'others depend on is deleted only after them (reason DependentsExist), unless its deletionPolicy is Retain. ' +
    'A cycle is Stalled with reason DependencyCycle. See docs/dependencies.md.',
  obj('A Stack this one depends on.', { name: dnsName('Name of the Stack (same namespace; namespaces are a tenant boundary).') }, { required: ['name'] }),
  { maxItems: MAX_DEPENDS_ON, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
);

const providerOptions = obj(
  'Options for one provider type; only the block matching the provider\'s type may be set.',
  {
    heat: obj('OpenStack Heat options.', {
      environment: freeObject('Heat environment (parameter_defaults, resource_registry, ...).'),
      files: stringMap('Files referenced by the template (get_file, nested templates), by name.'),
    }),
    rfs: obj('Huawei RFS options.', {
      enableAutoRollback: bool('Roll back automatically when a deployment fails.'),
      agencies: arr(
        'Agencies RFS uses to act on other services.',
        obj(
          'An agency.',
          {
            providerName: str('Provider name, e.g. huaweicloud.', { maxLength: 128 }),
            agencyName: str('IAM agency name.', { maxLength: 64 }),
          },
          { required: ['providerName', 'agencyName'] },
        ),
        { maxItems: 10 },
      ),
    }),
    ros: obj('Alibaba ROS options.', {
      replacementOption: enumOf('Whether an update may replace resources.', ['Enabled', 'Disabled']),
      stackPolicyBody: freeObject('Stack policy (StackPolicyBody). Mutually exclusive with stackPolicyURL.'),
      stackPolicyURL: str(
        'URL of the stack policy ROS fetches itself (StackPolicyURL): an http(s) URL or oss://bucket/object, up to 1350 characters. Mutually exclusive with stackPolicyBody.',
        { minLength: 1, maxLength: 1350 },
      ),
      stackPolicyDuringUpdateBody: freeObject(
        'Temporary stack policy for updates (StackPolicyDuringUpdateBody). Mutually exclusive with stackPolicyDuringUpdateURL; when set, UpdateStack sends it instead of the stack policy (the ROS API reference allows one policy parameter per UpdateStack).',
      ),
      stackPolicyDuringUpdateURL: str(
        'URL of the temporary stack policy for updates (StackPolicyDuringUpdateURL): an http(s) URL or oss://bucket/object, up to 1350 characters. Mutually exclusive with stackPolicyDuringUpdateBody.',
        { minLength: 1, maxLength: 1350 },
      ),
      ramRoleName: str('RAM role ROS assumes (RamRoleName), sent on CreateStack, UpdateStack and DeleteStack (ROS does not remember it for deletes).', { maxLength: 64 }),
      cancelType: enumOf(
        'How CancelUpdateStack stops an update: Safe (default: let running resources finish) or Quick (stop at once; may leave resources in a bad state). ROS has no cancel without rollback: updatePolicy.cancelMode NoRollback is refused for ROS.',
        ['Safe', 'Quick'],
        'Safe',
      ),
      parallelism: int('Maximum resources created or updated in parallel.', { minimum: 1, maximum: 1000 }),
    }, {
      'x-kubernetes-validations': [
        { rule: '!(has(self.stackPolicyBody) && has(self.stackPolicyURL))', message: 'set stackPolicyBody or stackPolicyURL, not both' },
        {
          rule: '!(has(self.stackPolicyDuringUpdateBody) && has(self.stackPolicyDuringUpdateURL))',
          message: 'set stackPolicyDuringUpdateBody or stackPolicyDuringUpdateURL, not both',
        },
      ],
    }),
    cloudFoundry: obj('Cloud Foundry options.', {
      appName: str('App name; defaults to the stack name.', { maxLength: 255 }),
      strategy: enumOf('Deployment strategy.', ['rolling', 'canary'], 'rolling'),
      dropletGuid: str('Droplet to deploy.', { maxLength: 64 }),
      revisionGuid: str('Revision to roll back to (instead of a droplet).', { maxLength: 64 }),
      maxInFlight: int('Instances replaced at a time.', { minimum: 1, maximum: 1000 }),
      canarySteps: arr('Canary steps (instance weights in percent).', int('Weight in percent.', { minimum: 1, maximum: 100 }), {
        maxItems: 20,
      }),
    }),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: '(has(self.heat) ? 1 : 0) + (has(self.rfs) ? 1 : 0) + (has(self.ros) ? 1 : 0) + (has(self.cloudFoundry) ? 1 : 0) <= 1',
        message: 'at most one of providerOptions.heat, .rfs, .ros or .cloudFoundry may be set',
      },
    ],
  },
);

const stackSpec = obj(
  'Desired state of a cloud orchestration stack.',
  {
    providerRef: obj(
      'The provider that runs this stack. Immutable: a Stack never moves between providers.',
      {
        kind: enumOf('StackProvider (same namespace) or ClusterStackProvider.', ['StackProvider', 'ClusterStackProvider'], 'StackProvider'),
        name: dnsName('Name of the provider object.'),
      },
      {
        required: ['name'],
        'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'providerRef is immutable' }],
      },
    ),
    stackName: str(
      'Name of the stack on the provider; defaults to metadata.name. Immutable. Providers may be stricter ' +
        '(rfs: at most 128 characters, no dots).',
      { minLength: 1, maxLength: 255, pattern: STACK_NAME_PATTERN },
    ),
    template,
    parameters: stringMap('Template parameters (at most 200).', { maxProperties: MAX_PARAMETERS }),
    parametersFrom,
    dependsOn,
    usePreviousParameters: bool(
      'On update, keep the values of parameters not given here (Heat PATCH, ROS UsePreviousParameters).',
      false,
    ),
    disableRollback: bool('Do not roll back a failed create or update.', false),
    timeoutMinutes: int('Timeout of a create or update, in minutes; an update running longer is cancelled.', {
      minimum: 1,
      maximum: 1440,
      default: 60,
    }),
    tags: stringMap('Tags put on the stack (at most 20).', { maxProperties: MAX_TAGS }),
    deletionPolicy: enumOf(
      'What happens to the cloud stack when this object is deleted: Delete (delete the stack), Retain ' +
        '(leave the stack untouched) or RetainResources (delete the stack record, keep its resources, where ' +
        'the provider can).',
      ['Delete', 'Retain', 'RetainResources'],
      'Delete',
    ),
    deletionProtection: bool(
      'Refuse deletion: the admission policy denies DELETE of this object, the operator keeps the cloud stack ' +
        'if the object is deleted anyway, and the provider\'s own protection flag is set where it has one. ' +
        'Set it to false (or deletionPolicy to Retain) to allow deletion.',
      false,
    ),
    updatePolicy: obj('How updates are applied.', {
      onSpecChangeDuringUpdate: enumOf(
        'When the spec changes while an update runs: CancelAndUpdate (cancel it, wait, apply the newest spec) ' +
          'or WaitAndUpdate (let it finish, then apply).',
        ['CancelAndUpdate', 'WaitAndUpdate'],
        'CancelAndUpdate',
      ),
      cancelMode: enumOf(
        'How an update is cancelled: Rollback (roll back to the previous state) or NoRollback (stop where it is; ' +
          'heat cancel_without_rollback, ROS Quick).',
        ['Rollback', 'NoRollback'],
        'Rollback',
      ),
    }),
    suspend: bool('Make no provider calls at all while true.', false),
    outputs: obj('Where to write the stack outputs besides status.outputs (non-sensitive only there).', {
      secretName: dnsName('Secret to write every output to (sensitive ones only go here).'),
      configMapName: dnsName('ConfigMap to write the non-sensitive outputs to.'),
    }),
    providerOptions,
    approval: obj('Whether changes reach the cloud on their own or wait for a person (docs/plan-approve.md).', {
      mode: enumOf(
        'Automatic (apply every change at once) or Manual (every create or update first produces status.plan and waits for ' +
          'the annotation stackoperator.dev/approve: "<plan id>"; deletion is not gated).',
        ['Automatic', 'Manual'],
        'Automatic',
      ),
    }),
  },
  { required: ['providerRef', 'template'] },
);

const countOf = (what: string): JSONSchemaProps => int(`Resources the plan would ${what}.`, { minimum: 0 });

const stackPlan = obj(
  'The plan awaiting approval (spec.approval.mode Manual), or the last one made: what the next create or update would do.',
  {
    id: str('Short id of the plan, stable for the same generation and desired state; approve it with the annotation stackoperator.dev/approve.'),
    generation: int('The metadata.generation the plan was made for.', { minimum: 0 }),
    hash: str('Hash of the desired state the plan was made for.'),
    operation: enumOf('What applying the plan does: Create or Update.', ['Create', 'Update']),
    createdAt: str('When the plan was made.', { format: 'date-time' }),
    summary: obj(
      'How many resources the plan adds, changes in place, replaces and removes.',
      { add: countOf('add'), change: countOf('change in place'), replace: countOf('replace'), remove: countOf('remove') },
      { required: ['add', 'change', 'replace', 'remove'] },
    ),
    summaryText: str('The summary as one line (the Plan column of kubectl get stacks -o wide).'),
    changes: arr(
      'The changed resources (at most 100; see truncated).',
      obj(
        'One resource the plan touches.',
        {
          name: str('Logical name of the resource in the template.'),
          type: str('Resource type, e.g. OS::Nova::Server.'),
          action: enumOf('What happens to it: Add, Change (in place), Replace or Remove.', ['Add', 'Change', 'Replace', 'Remove']),
          replacement: bool('True when the resource is deleted and created again (a new physical resource).'),
        },
        { required: ['name', 'type', 'action', 'replacement'] },
      ),
      { maxItems: 100 },
    ),
    truncated: bool('True when more than 100 resources change and changes lists only the first 100.'),
    providerPlanId: str("The provider's own plan reference, where it keeps one (ROS ChangeSetId, RFS execution plan id)."),
  },
  { required: ['id', 'generation', 'operation', 'createdAt', 'summary'] },
);

const stackStatus = obj('Observed state of the stack.', {
  observedGeneration: int('The metadata.generation last processed.', { minimum: 0 }),
  stackId: str('Id of the cloud stack.'),
  stackName: str('Name of the cloud stack.'),
  providerType: str('Type of the provider: heat, rfs, ros or cloudfoundry.'),
  stackStatus: str('The provider\'s status of the stack, e.g. CREATE_COMPLETE.'),
  stackStatusReason: str('The provider\'s reason for that status (truncated).'),
  conditions,
  outputs: stringMap('Non-sensitive stack outputs (non-string values JSON-encoded).'),
  operation: obj('The in-flight provider operation, recorded before the call so a restart resumes it.', {
    type: enumOf('Operation.', ['Create', 'Update', 'CancelUpdate', 'Delete']),
    generation: int('Generation being applied.', { minimum: 0 }),
    hash: str('Hash of the desired state being applied.'),
    token: str('Idempotency token sent with the call.'),
    startedAt: str('When the operation started.', { format: 'date-time' }),
    reason: str('Why it runs (e.g. UpdateTimedOut, SpecChanged, CancelRequested, Deleting).'),
    attempt: int('Attempt number at this generation (retries get a new token).', { minimum: 0 }),
    issuedAt: str('When the provider accepted the call; unset while the call may not have landed.', { format: 'date-time' }),
    cancelRequested: bool('A cancel of this operation was decided (recorded before the call).'),
    cancelIssuedAt: str('When the provider accepted the cancel; unset while the cancel may not have landed.', { format: 'date-time' }),
    cancelReason: str('Why it was cancelled: SpecChanged, UpdateTimedOut, CancelRequested or Deleting.'),
    sentAt: str('When the call was sent although its reply was lost (a timeout or reset after sending): it may have landed.', { format: 'date-time' }),
    observedOperation: str("The stack's last operation as the provider reported it when the operation was recorded (create, update, ...)."),
    observedUpdatedAt: str(
      "The stack's update time as the provider reported it when the operation was recorded (the provider's clock): a later value means the call landed.",
    ),
    recordedDuringRead: bool(
      "Written while the operator's read of the provider before the call was still running, so observedUpdatedAt / observedOperation are from the read before; the call was sent only after the new read matched them. Until the call is confirmed (issuedAt, written right after it) or marked sent, a change counts as this call after a crash only if the provider's time of it is not older than startedAt.",
    ),
    providerPlanId: str("The approved provider plan this create / update executes (ROS ChangeSetId, RFS execution plan id); a resumed call executes the same plan."),
  }, { required: ['type', 'generation', 'token', 'startedAt'] }),
  lastAppliedGeneration: int('Generation whose desired state was last applied successfully.', { minimum: 0 }),
  lastAppliedHash: str('Hash of the desired state last applied successfully.'),
  blockedHash: str(
    'Hash of a desired state that is not re-applied until the spec or reconcile-requested-at changes (after a cancel or a terminal failure); cleared when another operation starts.',
  ),
  lastHandledCancelRequest: str('The last stackoperator.dev/cancel-update value handled.'),
  lastHandledReconcileRequest: str('The last stackoperator.dev/reconcile-requested-at value handled.'),
  deletionProtection: bool('Deletion protection as the provider reports it.'),
  mirroredDeletionProtection: bool(
    'The spec.deletionProtection value last mirrored to the provider\'s own flag; a provider flag set while this is false was set outside Kubernetes.',
  ),
  lastError: str('The last provider error, truncated, for humans.'),
  nextRetryAt: str('When the next automatic retry of a failed operation is due.', { format: 'date-time' }),
  failures: int('Consecutive failed attempts at the current generation.', { minimum: 0 }),
  plan: stackPlan,
  lastHandledApproval: str('The last stackoperator.dev/approve value handled (applied or ignored as stale).'),
});

export const stackSchema: JSONSchemaProps = obj(
  'Stack: a cloud orchestration stack (Heat, RFS, ROS or Cloud Foundry) managed declaratively.',
  {
    apiVersion: str('APIVersion of this object.'),
    kind: str('Kind of this object: Stack.'),
    metadata: { type: 'object' },
    spec: stackSpec,
    status: stackStatus,
  },
  {
    required: ['spec'],
    'x-kubernetes-validations': [
      {
        // stackName defaults to metadata.name, so the effective name is compared: setting stackName to the
        // current name later is allowed, any other change is not.
        rule:
          '(has(self.spec.stackName) ? self.spec.stackName : self.metadata.name) == ' +
          '(has(oldSelf.spec.stackName) ? oldSelf.spec.stackName : oldSelf.metadata.name)',
        message: 'spec.stackName is immutable: delete and re-create the Stack to use another stack name',
        fieldPath: '.spec.stackName',
      },
      {
        rule: `has(self.spec.stackName) || self.metadata.name.matches('${STACK_NAME_PATTERN}')`,
        message: 'metadata.name is not a valid stack name (it must start with a letter); set spec.stackName',
        fieldPath: '.spec.stackName',
      },
      {
        rule: '!has(self.spec.dependsOn) || self.spec.dependsOn.all(d, d.name != self.metadata.name)',
        message: 'a Stack cannot depend on itself',
        fieldPath: '.spec.dependsOn',
      },
      {
        rule: "!has(self.spec.parametersFrom) || self.spec.parametersFrom.all(p, p.kind != 'Stack' || p.name != self.metadata.name)",
        message: 'a Stack cannot read parameters from its own outputs',
        fieldPath: '.spec.parametersFrom',
      },
    ],
  },
);

export const stackProviderSchema = providerSchema(false);
export const clusterStackProviderSchema = providerSchema(true);
