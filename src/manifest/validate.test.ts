import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.js';
import { validatePod } from './validate.js';
import { fixture, podWithSpec, validateText, yaml } from './testing.js';

/** One expected error: a substring of its message, and optionally its field path and line:column. */
interface Want {
  msg: string;
  field?: string;
  at?: [number, number];
}

interface Case {
  name: string;
  /** A whole manifest; or use `spec` for lines under `spec:` of a pod named `web` (they start at line 6, column 3). */
  text?: string;
  spec?: string;
  want: Want[];
  /** Other errors may be reported too. */
  partial?: boolean;
}

function run(c: Case): void {
  const text = c.text ?? podWithSpec(c.spec ?? '');
  const errors = validateText(text);
  const shown = () => JSON.stringify(errors.map((e) => e.located), null, 1);
  for (const w of c.want) {
    const e = errors.find((x) => x.message.includes(w.msg) && (w.field === undefined || x.details.field === w.field));
    assert.ok(e, `missing error ${JSON.stringify(w)}; got ${shown()}`);
    assert.equal(e.code, 'FailedValidation', e.located);
    if (w.at) assert.deepEqual([e.details.line, e.details.column], w.at, e.located);
  }
  if (!c.partial) assert.equal(errors.length, c.want.length, `unexpected errors: ${shown()}`);
}

const C = 'containers:\n- name: web\n';

const goodCases: Case[] = [
  { name: 'a minimal pod: a name and a container without image', spec: 'containers:\n- name: web', want: [] },
  { name: 'a container with only a command (process runtime)', spec: 'containers:\n- name: web\n  command: [sleep, "10"]', want: [] },
  {
    name: 'a sidecar init container with probes and a regular init container',
    spec: yaml`
      initContainers:
      - name: setup
        command: [/bin/true]
      - name: proxy
        restartPolicy: Always
        startupProbe: {tcpSocket: {port: 8080}}
        readinessProbe: {httpGet: {port: proxy, path: /ready}}
        ports: [{name: proxy, containerPort: 8080}]
      containers:
      - name: web
    `,
    want: [],
  },
  {
    name: 'ports with names, host ports and every protocol',
    spec: yaml`
      containers:
      - name: web
        ports:
        - {name: http, containerPort: 80, hostPort: 8080}
        - {name: dns-udp, containerPort: 53, protocol: UDP}
        - {containerPort: 9000, protocol: SCTP, hostIP: 127.0.0.1}
        - {containerPort: 9001, hostIP: "::1"}
    `,
    want: [],
  },
  {
    name: 'hostNetwork with matching ports',
    spec: 'hostNetwork: true\ncontainers:\n- name: web\n  ports: [{containerPort: 80, hostPort: 80}, {containerPort: 81}]',
    want: [],
  },
  {
    name: 'relaxed env var names and every downward API env source',
    spec: yaml`
      containers:
      - name: web
        env:
        - {name: my.var-1, value: x}
        - {name: "WITH SPACE", value: "y"}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']", apiVersion: v1}}}
        - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}
    `,
    want: [],
  },
  {
    name: 'quantities in every form, requests equal to limits in other units',
    spec: yaml`
      containers:
      - name: web
        resources:
          limits: {cpu: "0.5", memory: 1Gi, ephemeral-storage: 1e9, example.com/gpu: 2, hugepages-2Mi: 4Mi}
          requests: {cpu: 500m, memory: 1024Mi, ephemeral-storage: 1G, example.com/gpu: "2", hugepages-2Mi: 4Mi}
      - name: side
        resources:
          limits: {cpu: 2, memory: 2.5Gi}
          requests: {cpu: 1500m, memory: "1e3"}
    `,
    want: [],
  },
  {
    name: 'allowed volumes: hostPath, emptyDir, downwardAPI, projected downwardAPI, no source at all',
    spec: yaml`
      volumes:
      - {name: a, hostPath: {path: /var/lib/a, type: DirectoryOrCreate}}
      - {name: b, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
      - name: c
        downwardAPI:
          defaultMode: 0644
          items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: cpu, resourceFieldRef: {containerName: web, resource: requests.cpu}}
      - name: d
        projected:
          sources:
          - downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}, mode: 0400}]}
      - name: e
      containers:
      - name: web
        volumeMounts:
        - {name: a, mountPath: /a}
        - {name: b, mountPath: /b, subPath: x/y}
        - {name: c, mountPath: /c, readOnly: true, recursiveReadOnly: IfPossible}
        - {name: d, mountPath: /d}
        - {name: e, mountPath: /e}
    `,
    want: [],
  },
  {
    name: 'pod-level settings: policies, DNS, tolerations, aliases, security context',
    spec: yaml`
      restartPolicy: OnFailure
      terminationGracePeriodSeconds: 60
      activeDeadlineSeconds: 600
      priorityClassName: system-node-critical
      serviceAccountName: ""
      dnsPolicy: None
      dnsConfig: {nameservers: [1.1.1.1, "2606:4700:4700::1111"], searches: [example.com.], options: [{name: ndots, value: "2"}]}
      hostname: web-0
      nodeSelector: {kubernetes.io/os: linux}
      tolerations:
      - {operator: Exists}
      - {key: example.com/dedicated, operator: Equal, value: web, effect: NoSchedule}
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}
      hostAliases: [{ip: 10.0.0.1, hostnames: [db.local]}]
      securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000], seccompProfile: {type: RuntimeDefault}}
      os: {name: linux}
      containers:
      - name: web
        securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}
        lifecycle:
          preStop: {sleep: {seconds: 5}}
          postStart: {exec: {command: [touch, /tmp/started]}}
        livenessProbe: {grpc: {port: 9090}, successThreshold: 1, terminationGracePeriodSeconds: 5}
    `,
    want: [],
  },
  {
    name: 'labels and annotations with prefixes',
    text: yaml`
      apiVersion: v1
      kind: Pod
      metadata:
        name: web.example
        namespace: kube-system
        labels: {app.kubernetes.io/name: web, tier: "", x: a_b.c-d}
        annotations: {example.com/Owner: "anything at all: {}", kubernetes.io/config.hash: old}
      spec:
        containers: [{name: web}]
    `,
    want: [],
  },
];

const metadataCases: Case[] = [
  {
    name: 'a missing name: "name is needed for the pod" at metadata',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b}\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'name is needed for the pod', field: 'metadata.name', at: [3, 1] }],
  },
  {
    name: 'a missing metadata: "name is needed for the pod" at the object',
    text: 'apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'name is needed for the pod', field: 'metadata.name', at: [1, 1] }],
  },
  {
    name: 'an empty name is a missing name',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: ""\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'name is needed for the pod', at: [4, 9] }],
  },
  {
    name: 'a name that is not a DNS subdomain',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: Web_1\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain', field: 'metadata.name', at: [4, 9] }],
  },
  {
    name: 'a name that is too long once the node name is appended',
    text: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${'a'.repeat(250)}\nspec:\n  containers: [{name: a}]\n`,
    want: [{ msg: 'must be no more than 246 characters', field: 'metadata.name', at: [4, 9] }],
  },
  {
    name: 'a name that is not a string',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: 123\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'metadata.name: Invalid type: expected string, got integer 123', at: [4, 9] }],
  },
  {
    name: 'a namespace that is not a DNS label',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: kube.system\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'metadata.namespace: Invalid value: "kube.system": a lowercase RFC 1123 label', at: [5, 14] }],
  },
  {
    name: 'bad label keys and values',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    a/b/c: ok\n    good: -bad-\nspec:\n  containers: [{name: a}]\n',
    want: [
      { msg: 'metadata.labels: Invalid value: "a/b/c": a qualified name', field: 'metadata.labels', at: [6, 12] },
      { msg: 'metadata.labels: Invalid value: "-bad-": a valid label must be', field: 'metadata.labels', at: [7, 11] },
    ],
  },
  {
    name: 'a label value that is not a string',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {replicas: 3}\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'metadata.labels[replicas]: Invalid type: expected string, got integer 3', at: [5, 22] }],
  },
  {
    name: 'a bad annotation key',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    "bad key!": x\nspec:\n  containers: [{name: a}]\n',
    want: [{ msg: 'metadata.annotations: Invalid value: "bad key!"', at: [6, 17] }],
  },
  {
    name: 'annotations over 256 KiB',
    text: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    big: "${'x'.repeat(262_200)}"\nspec:\n  containers: [{name: a}]\n`,
    want: [{ msg: 'metadata.annotations: Too long: may not be more than 262144 bytes', at: [5, 3] }],
  },
  {
    name: 'an unquoted yes in YAML 1.1 is a boolean, with a hint',
    spec: 'containers:\n- name: web\n  env: [{name: DEBUG, value: yes}]',
    want: [{ msg: 'expected string, got boolean true (quote the value to make it a string)', field: 'spec.containers[0].env[0].value', at: [8, 32] }],
  },
];

const specCases: Case[] = [
  { name: 'a missing spec', text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n', want: [{ msg: 'spec: Required value', at: [1, 1] }] },
  { name: 'no containers', spec: 'restartPolicy: Always', want: [{ msg: 'spec.containers: Required value', at: [5, 1] }] },
  { name: 'an empty container list', spec: 'containers: []', want: [{ msg: 'spec.containers: Required value', at: [6, 15] }] },
  { name: 'containers of the wrong type', spec: 'containers: web', want: [{ msg: 'spec.containers: Invalid type: expected array, got string "web"', at: [6, 15] }] },
  { name: 'a container that is not an object', spec: 'containers: [web]', want: [{ msg: 'spec.containers[0]: Invalid type: expected object', at: [6, 16] }] },
  { name: 'a container without name', spec: 'containers:\n- image: nginx', want: [{ msg: 'spec.containers[0].name: Required value', at: [7, 5] }] },
  {
    name: 'a container name that is not a DNS label',
    spec: 'containers:\n- name: Web.1',
    want: [{ msg: 'spec.containers[0].name: Invalid value: "Web.1": a lowercase RFC 1123 label', at: [7, 11] }],
  },
  {
    name: 'container names unique across init containers and containers',
    spec: 'initContainers:\n- name: web\ncontainers:\n- name: web\n- name: web',
    want: [
      { msg: 'spec.containers[0].name: Duplicate value: "web"', at: [9, 11] },
      { msg: 'spec.containers[1].name: Duplicate value: "web"', at: [10, 11] },
    ],
  },
  {
    name: 'an unknown restartPolicy',
    spec: `restartPolicy: Sometimes\n${C}`,
    want: [{ msg: 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"', at: [6, 18] }],
  },
  {
    name: 'an init container restartPolicy other than Always',
    spec: `initContainers:\n- name: init\n  restartPolicy: Never\n${C}`,
    want: [{ msg: 'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"', at: [8, 20] }],
  },
  {
    name: 'a restartPolicy on a regular container',
    spec: 'containers:\n- name: web\n  restartPolicy: Always',
    want: [{ msg: 'spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers', at: [8, 20] }],
  },
  {
    name: 'probes and hooks on a plain init container',
    spec: `initContainers:\n- name: init\n  livenessProbe: {exec: {command: [x]}}\n  lifecycle: {}\n${C}`,
    want: [
      { msg: 'spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always', at: [9, 16] },
      { msg: 'spec.initContainers[0].livenessProbe: Forbidden', at: [8, 20] },
    ],
  },
  { name: 'a negative terminationGracePeriodSeconds', spec: `terminationGracePeriodSeconds: -1\n${C}`, want: [{ msg: 'must be greater than or equal to 0', at: [6, 34] }] },
  { name: 'a zero activeDeadlineSeconds', spec: `activeDeadlineSeconds: 0\n${C}`, want: [{ msg: 'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive', at: [6, 26] }] },
  { name: 'an unknown dnsPolicy', spec: `dnsPolicy: Cluster\n${C}`, want: [{ msg: 'spec.dnsPolicy: Unsupported value: "Cluster"', at: [6, 14] }] },
  { name: 'dnsPolicy None without dnsConfig', spec: `dnsPolicy: None\n${C}`, want: [{ msg: 'must provide `dnsConfig` when `dnsPolicy` is None' }] },
  {
    name: 'a bad dnsConfig',
    spec: `dnsConfig: {nameservers: [1.1.1.1, 8.8.8.8, 9.9.9.9, dns.local]}\n${C}`,
    want: [{ msg: 'must not have more than 3 nameservers' }, { msg: 'spec.dnsConfig.nameservers[3]: Invalid value: "dns.local": must be valid IP address', at: [6, 56] }],
  },
  {
    name: 'bad tolerations',
    spec: `tolerations:\n- {operator: Exists, value: x}\n- {key: a, effect: NoRun}\n- {value: x}\n- {key: a, operator: Exists, tolerationSeconds: 5}\n${C}`,
    want: [
      { msg: "value must be empty when `operator` is 'Exists'", field: 'spec.tolerations[0].value' },
      { msg: 'spec.tolerations[1].effect: Unsupported value: "NoRun"', at: [8, 22] },
      { msg: 'operator must be Exists when `key` is empty', field: 'spec.tolerations[2].operator' },
      { msg: "effect must be 'NoExecute' when `tolerationSeconds` is set", field: 'spec.tolerations[3].effect' },
    ],
  },
  { name: 'a host alias with a bad IP', spec: `hostAliases: [{ip: 10.0.0.256, hostnames: [a]}]\n${C}`, want: [{ msg: 'spec.hostAliases[0].ip: Invalid value: "10.0.0.256": must be valid IP address' }] },
  { name: 'a negative runAsUser', spec: `securityContext: {runAsUser: -1}\n${C}`, want: [{ msg: 'spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive' }] },
  { name: 'a bad nodeSelector value', spec: `nodeSelector: {zone: "a b"}\n${C}`, want: [{ msg: 'spec.nodeSelector: Invalid value: "a b": a valid label must be' }] },
  { name: 'a hostname that is not a DNS label', spec: `hostname: Web_0\n${C}`, want: [{ msg: 'spec.hostname: Invalid value: "Web_0"' }] },
  { name: 'an unknown os', spec: `os: {name: plan9}\n${C}`, want: [{ msg: 'spec.os.name: Unsupported value: "plan9"' }] },
  {
    name: 'shareProcessNamespace with hostPID',
    spec: `hostPID: true\nshareProcessNamespace: true\n${C}`,
    want: [{ msg: 'ShareProcessNamespace and HostPID cannot both be enabled' }],
  },
];

const portCases: Case[] = [
  {
    name: 'container ports out of range or missing',
    spec: 'containers:\n- name: web\n  ports:\n  - containerPort: 0\n  - containerPort: 70000\n  - {containerPort: 80, hostPort: 65536}\n  - {name: x}',
    want: [
      { msg: 'spec.containers[0].ports[0].containerPort: Required value', at: [9, 22] },
      { msg: 'spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive', at: [10, 22] },
      { msg: 'spec.containers[0].ports[2].hostPort: Invalid value: 65536: must be between 1 and 65535, inclusive', at: [11, 37] },
      { msg: 'spec.containers[0].ports[3].containerPort: Required value', at: [12, 7] },
    ],
  },
  {
    name: 'port names are IANA service names, unique per container',
    spec: yaml`
      containers:
      - name: web
        ports:
        - {name: abcdefghijklmnop, containerPort: 1}
        - {name: "8080", containerPort: 2}
        - {name: a--b, containerPort: 3}
        - {name: -ab, containerPort: 4}
        - {name: http, containerPort: 5}
        - {name: http, containerPort: 6}
      - name: other
        ports: [{name: http, containerPort: 5}]
    `,
    want: [
      { msg: 'ports[0].name: Invalid value: "abcdefghijklmnop": must be no more than 15 characters', at: [9, 14] },
      { msg: 'ports[1].name: Invalid value: "8080": must contain at least one letter (a-z)' },
      { msg: 'ports[2].name: Invalid value: "a--b": must not contain consecutive hyphens' },
      { msg: 'ports[3].name: Invalid value: "-ab": must not begin or end with a hyphen' },
      { msg: 'spec.containers[0].ports[5].name: Duplicate value: "http"', at: [14, 14] },
    ],
  },
  {
    name: 'an unknown protocol and a bad hostIP',
    spec: 'containers:\n- name: web\n  ports: [{containerPort: 80, protocol: tcp, hostIP: localhost}]',
    want: [
      { msg: 'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"', at: [8, 43] },
      { msg: 'spec.containers[0].ports[0].hostIP: Invalid value: "localhost": must be a valid IP address' },
    ],
  },
  {
    name: 'hostNetwork needs hostPort = containerPort',
    spec: 'hostNetwork: true\ncontainers:\n- name: web\n  ports: [{containerPort: 80, hostPort: 81}]',
    want: [{ msg: 'spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true' }],
  },
  {
    name: 'two containers on one host port',
    spec: 'containers:\n- name: a\n  ports: [{containerPort: 80, hostPort: 8080}]\n- name: b\n  ports: [{containerPort: 81, hostPort: 8080}]',
    want: [{ msg: 'spec.containers[1].ports[0].hostPort: Duplicate value: "/TCP/8080"', at: [10, 43] }],
  },
  {
    name: 'a containerPort written as a string',
    spec: 'containers:\n- name: web\n  ports: [{containerPort: "80"}]',
    want: [{ msg: 'spec.containers[0].ports[0].containerPort: Invalid type: expected integer, got string "80"', at: [8, 29] }],
  },
];

const envCases: Case[] = [
  {
    name: 'env names: empty, or with "="',
    spec: 'containers:\n- name: web\n  env:\n  - {name: "A=B", value: x}\n  - {value: z}\n  - {name: "tab\\there"}',
    want: [
      { msg: 'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than \'=\'', at: [9, 14] },
      { msg: 'spec.containers[0].env[1].name: Required value', at: [10, 7] },
      { msg: 'spec.containers[0].env[2].name: Invalid value: "tab\\there"' },
    ],
  },
  {
    name: 'valueFrom with a value',
    spec: 'containers:\n- name: web\n  env:\n  - name: A\n    value: x\n    valueFrom: {fieldRef: {fieldPath: metadata.name}}',
    want: [{ msg: 'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty', at: [11, 18] }],
  },
  {
    name: 'valueFrom with no source',
    spec: 'containers:\n- name: web\n  env: [{name: A, valueFrom: {}}]',
    want: [{ msg: 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`' }],
  },
  {
    name: 'valueFrom with two sources',
    spec: 'containers:\n- name: web\n  env: [{name: A, valueFrom: {fieldRef: {fieldPath: metadata.name}, resourceFieldRef: {resource: limits.cpu}}}]',
    want: [{ msg: 'may not have more than one field specified at a time', field: 'spec.containers[0].env[0].valueFrom' }],
  },
  {
    name: 'unsupported downward API fields in env',
    spec: yaml`
      containers:
      - name: web
        env:
        - {name: A, valueFrom: {fieldRef: {fieldPath: spec.foo}}}
        - {name: B, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}
        - {name: C, valueFrom: {fieldRef: {fieldPath: metadata.name, apiVersion: v2}}}
        - {name: D, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}
        - {name: E, valueFrom: {fieldRef: {}}}
    `,
    want: [
      { msg: 'env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.foo"', at: [9, 51] },
      { msg: 'env[1].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels"' },
      { msg: 'env[2].valueFrom.fieldRef.apiVersion: Unsupported value: "v2"' },
      { msg: 'env[3].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu"' },
      { msg: 'env[4].valueFrom.fieldRef.fieldPath: Required value' },
    ],
  },
  {
    name: 'an envFrom with no source and a bad prefix',
    spec: 'containers:\n- name: web\n  envFrom: [{prefix: "A="}]',
    want: [
      { msg: 'spec.containers[0].envFrom[0]: Invalid value: "": must specify one of: `configMapRef` or `secretRef`' },
      { msg: 'spec.containers[0].envFrom[0].prefix: Invalid value: "A="' },
    ],
  },
];

const volumeCases: Case[] = [
  {
    name: 'volume names: missing, not a DNS label, duplicated',
    spec: `volumes:\n- {emptyDir: {}}\n- {name: Data}\n- {name: a}\n- {name: a}\n${C}`,
    want: [
      { msg: 'spec.volumes[0].name: Required value', at: [7, 5] },
      { msg: 'spec.volumes[1].name: Invalid value: "Data": a lowercase RFC 1123 label', at: [8, 12] },
      { msg: 'spec.volumes[3].name: Duplicate value: "a"', at: [10, 12] },
    ],
  },
  {
    name: 'a volume with two sources',
    spec: `volumes:\n- name: a\n  hostPath: {path: /a}\n  emptyDir: {}\n${C}`,
    want: [{ msg: 'spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type', at: [9, 15] }],
  },
  {
    name: 'a hostPath without path and with an unknown type',
    spec: `volumes:\n- name: a\n  hostPath: {type: Dir}\n${C}`,
    want: [{ msg: 'spec.volumes[0].hostPath.path: Required value' }, { msg: 'spec.volumes[0].hostPath.type: Unsupported value: "Dir"', at: [8, 22] }],
  },
  {
    name: 'an emptyDir with a bad medium and size',
    spec: `volumes:\n- name: a\n  emptyDir: {medium: Disk, sizeLimit: lots}\n${C}`,
    want: [{ msg: 'spec.volumes[0].emptyDir.medium: Unsupported value: "Disk"' }, { msg: 'spec.volumes[0].emptyDir.sizeLimit: Invalid value: "lots": quantities must match' }],
  },
  {
    name: 'downwardAPI volume items',
    spec: yaml`
      volumes:
      - name: a
        downwardAPI:
          defaultMode: 01000
          items:
          - {path: ../x, fieldRef: {fieldPath: metadata.name}}
          - {path: x, fieldRef: {fieldPath: spec.nodeName}}
          - {path: yy, resourceFieldRef: {resource: limits.cpu}}
          - {path: z}
          - {path: /abs, fieldRef: {fieldPath: metadata.uid}, mode: 0777}
      containers:
      - name: web
    `,
    want: [
      { msg: 'spec.volumes[0].downwardAPI.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive', at: [9, 20] },
      { msg: "spec.volumes[0].downwardAPI.items[0].path: Invalid value: \"../x\": must not contain '..'", at: [11, 16] },
      { msg: "items[0].path: Invalid value: \"../x\": must not start with '..'" },
      { msg: 'items[1].fieldRef.fieldPath: Unsupported value: "spec.nodeName"' },
      { msg: 'items[2].resourceFieldRef.containerName: Required value' },
      { msg: 'items[3]: Required value: one of fieldRef and resourceFieldRef is required' },
      { msg: 'items[4].path: Invalid value: "/abs": must be a relative path' },
    ],
  },
  {
    name: 'volumeMounts: unknown volume, duplicate and missing mountPath, escaping subPath',
    spec: yaml`
      volumes: [{name: data, emptyDir: {}}]
      containers:
      - name: web
        volumeMounts:
        - {name: nope, mountPath: /x}
        - {name: data, mountPath: /x}
        - {name: data}
        - {name: data, mountPath: /y, subPath: ../etc}
        - {name: data, mountPath: /z, subPath: /etc}
    `,
    want: [
      { msg: 'spec.containers[0].volumeMounts[0].name: Not found: "nope"', at: [10, 14] },
      { msg: 'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/x": must be unique', at: [11, 31] },
      { msg: 'spec.containers[0].volumeMounts[2].mountPath: Required value', at: [12, 7] },
      { msg: "volumeMounts[3].subPath: Invalid value: \"../etc\": must not contain '..'" },
      { msg: 'volumeMounts[4].subPath: Invalid value: "/etc": must be a relative path' },
    ],
  },
  {
    name: 'Bidirectional propagation needs a privileged container',
    spec: 'volumes: [{name: d, hostPath: {path: /d}}]\ncontainers:\n- name: web\n  volumeMounts: [{name: d, mountPath: /d, mountPropagation: Bidirectional}]',
    want: [{ msg: 'Bidirectional mount propagation is available only to privileged containers' }],
  },
  {
    name: 'volumeDevices need a PVC',
    spec: 'volumes: [{name: d, hostPath: {path: /dev/sda}}]\ncontainers:\n- name: web\n  volumeDevices: [{name: d, devicePath: /dev/xvda}, {name: e, devicePath: /dev/xvdb}]',
    want: [
      { msg: 'volumeDevices[0].name: Invalid value: "d": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode' },
      { msg: 'volumeDevices[1].name: Not found: "e"' },
    ],
  },
];

const resourceCases: Case[] = [
  {
    name: 'quantities that do not parse, or are negative',
    spec: 'containers:\n- name: web\n  resources:\n    limits: {cpu: 1xx, memory: -1Gi}\n    requests: {cpu: [1]}',
    want: [
      { msg: 'spec.containers[0].resources.limits[cpu]: Invalid value: "1xx": quantities must match the regular expression', at: [9, 21] },
      { msg: 'spec.containers[0].resources.limits[memory]: Invalid value: "-1Gi": must be greater than or equal to 0', at: [9, 34] },
      { msg: 'spec.containers[0].resources.requests[cpu]: Invalid type: expected quantity' },
    ],
  },
  {
    name: 'requests above limits',
    spec: 'containers:\n- name: web\n  resources:\n    limits: {cpu: "1", memory: 1Gi}\n    requests: {cpu: 1001m, memory: 1025Mi}',
    want: [
      { msg: 'spec.containers[0].resources.requests[cpu]: Invalid value: "1001m": must be less than or equal to cpu limit of 1', at: [10, 23] },
      { msg: 'spec.containers[0].resources.requests[memory]: Invalid value: "1025Mi": must be less than or equal to memory limit of 1Gi' },
    ],
  },
  {
    name: 'unknown resource names',
    spec: 'containers:\n- name: web\n  resources:\n    limits: {gpu: 1, kubernetes.io/foo: 1}',
    want: [
      { msg: 'spec.containers[0].resources.limits: Invalid value: "gpu": must be a standard resource type or fully qualified', at: [9, 21] },
      { msg: 'spec.containers[0].resources.limits: Invalid value: "kubernetes.io/foo": must be a standard resource for containers' },
    ],
  },
  {
    name: 'extended resources cannot be overcommitted or fractional',
    spec: 'containers:\n- name: web\n  resources:\n    limits: {example.com/a: 2, example.com/c: 500m}\n    requests: {example.com/a: 1, example.com/b: 1}',
    want: [
      { msg: 'requests[example.com/a]: Invalid value: "1": must be equal to example.com/a limit of 2' },
      { msg: 'resources.limits: Forbidden: Limit must be set for non overcommitable resources (example.com/b)' },
      { msg: 'limits[example.com/c]: Invalid value: "500m": must be an integer' },
    ],
  },
  {
    name: 'pod-level resources allow cpu and memory only',
    spec: `resources: {limits: {cpu: 1, ephemeral-storage: 1Gi}, requests: {cpu: 2}}\n${C}`,
    want: [
      { msg: 'spec.resources.limits: Unsupported value: "ephemeral-storage"' },
      { msg: 'spec.resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1' },
    ],
  },
];

const probeCases: Case[] = [
  {
    name: 'probe handlers: none, or two',
    spec: 'containers:\n- name: web\n  livenessProbe: {periodSeconds: 5}\n  readinessProbe: {exec: {command: [x]}, tcpSocket: {port: 80}}',
    want: [
      { msg: 'spec.containers[0].livenessProbe: Required value: must specify a handler type', at: [8, 20] },
      { msg: 'spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type' },
    ],
  },
  {
    name: 'probe numbers and ports',
    spec: yaml`
      containers:
      - name: web
        livenessProbe: {httpGet: {port: 0, scheme: FTP}, successThreshold: 2, periodSeconds: -1}
        startupProbe: {httpGet: {port: HTTP}, terminationGracePeriodSeconds: 0}
        readinessProbe: {grpc: {}, terminationGracePeriodSeconds: 5}
    `,
    want: [
      { msg: 'livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive' },
      { msg: 'livenessProbe.httpGet.scheme: Unsupported value: "FTP"' },
      { msg: 'livenessProbe.successThreshold: Invalid value: 2: must be 1' },
      { msg: 'livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0' },
      { msg: 'startupProbe.httpGet.port: Invalid value: "HTTP": must contain only alpha-numeric characters' },
      { msg: 'startupProbe.httpGet.port: Invalid value: "HTTP": must contain at least one letter' },
      { msg: 'startupProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0' },
      { msg: 'readinessProbe.grpc.port: Required value' },
      { msg: 'readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes' },
    ],
  },
  {
    name: 'lifecycle hooks: empty, and a sleep longer than the grace period',
    spec: 'terminationGracePeriodSeconds: 30\ncontainers:\n- name: web\n  lifecycle:\n    postStart: {}\n    preStop: {sleep: {seconds: 60}}',
    want: [
      { msg: 'spec.containers[0].lifecycle.postStart: Required value: must specify a handler type' },
      { msg: 'spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)' },
    ],
  },
  {
    name: 'privileged with allowPrivilegeEscalation false',
    spec: 'containers:\n- name: web\n  securityContext: {privileged: true, allowPrivilegeEscalation: false}',
    want: [{ msg: 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true' }],
  },
];

function table(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) it(c.name, () => run(c));
  });
}

table('validatePod accepts good manifests', goodCases);
table('validatePod: metadata', metadataCases);
table('validatePod: pod spec', specCases);
table('validatePod: ports', portCases);
table('validatePod: env', envCases);
table('validatePod: volumes and mounts', volumeCases);
table('validatePod: resources', resourceCases);
table('validatePod: probes, hooks and security', probeCases);

describe('validatePod', () => {
  it('accepts the good.yaml and good.json fixtures', () => {
    assert.deepEqual(validateText(fixture('good.yaml').toString()).map((e) => e.located), []);
    assert.deepEqual(validateText(fixture('good.json').toString(), 'good.json').map((e) => e.located), []);
  });

  it('collects every error instead of stopping at the first', () => {
    const errors = validateText(yaml`
      apiVersion: v1
      kind: Pod
      metadata: {name: Bad_Name, namespace: Bad_NS}
      spec:
        restartPolicy: Sometimes
        dnsPolicy: Cluster
        containers:
        - name: Bad
          ports: [{containerPort: 0}]
        volumes: [{name: s, secret: {secretName: x}}]
    `);
    assert.ok(errors.length >= 6, JSON.stringify(errors.map((e) => e.located)));
  });

  it('reports field paths in details and file:line:col in located', () => {
    const [e] = validateText(podWithSpec('restartPolicy: Sometimes\ncontainers: [{name: a}]'));
    assert.ok(e);
    assert.equal(e.details.field, 'spec.restartPolicy');
    assert.equal(e.located, 'web.yaml:6:18: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"');
  });

  it('works without a locator (no line and column)', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'A' }] } } as Pod;
    const [e] = validatePod(pod, { file: 'x.json' });
    assert.ok(e);
    assert.equal(e.details.line, undefined);
    assert.match(e.located, /^x\.json: spec\.containers\[0\]\.name: Invalid value: "A"/);
  });

  it('does not check the node-name suffix when no node name is given', () => {
    const pod = { metadata: { name: 'a'.repeat(253) }, spec: { containers: [{ name: 'a' }] } } as Pod;
    assert.deepEqual(validatePod(pod, { file: 'f' }), []);
    assert.equal(validatePod(pod, { file: 'f', nodeName: 'n' }).length, 1);
  });

  it('refuses values that are not objects without throwing', () => {
    for (const v of [null, 1, 'pod', [], true]) {
      const errors = validatePod(v as unknown as Pod, { file: 'f' });
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.message ?? '', /expected a Pod object/);
    }
  });
});
