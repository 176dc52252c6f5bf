/**
 * An offline check of Kubernetes objects, for test/k8s-manifests.test.ts (no cluster here, and
 * `kubectl --validate` downloads the schema from a server).
 *
 * Two layers:
 * - `kubernetes-models` (the API's OpenAPI schema as classes with `validate()`), when the package is
 *   installed: every object of a kind it knows is validated against the real schema.
 * - Always: a hand-written structural check of the kinds and fields these manifests use — unknown
 *   fields (a typo is silently dropped by the API server's non-strict decoding), required fields,
 *   value types, and the cross-object rules the API server or the controllers enforce (a workload's
 *   selector matches its pod template, a probe's named port exists, a Secret volume names a Secret
 *   and keys that exist, a StatefulSet's serviceName is a headless Service, `$(VAR)` in args is a
 *   declared env var). It is NOT the full schema: fields outside the tables below are reported as
 *   unknown, so extending the manifests means extending the tables.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type K8sObject = { apiVersion?: unknown; kind?: unknown; metadata?: unknown; [k: string]: unknown };

type Shape =
  | 'string'
  | 'int'
  | 'bool'
  | 'int-or-string'
  | 'quantity'
  | 'any'
  | { list: Shape }
  | { map: Shape }
  | { fields: Record<string, Shape>; required?: string[] };

const str: Shape = 'string';
const int: Shape = 'int';
const obj = (fields: Record<string, Shape>, required: string[] = []): Shape => ({ fields, required });
const list = (s: Shape): Shape => ({ list: s });
const map = (s: Shape): Shape => ({ map: s });

const labelSelector = obj({ matchLabels: map(str), matchExpressions: list('any') });
const metadata = obj({ name: str, namespace: str, labels: map(str), annotations: map(str), generateName: str }, [
  'name',
]);
const templateMeta = obj({ labels: map(str), annotations: map(str) });
const resources = obj({ requests: map('quantity'), limits: map('quantity') });
const probe = obj({
  httpGet: obj({ path: str, port: 'int-or-string', scheme: str, httpHeaders: list('any') }, ['port']),
  exec: obj({ command: list(str) }),
  tcpSocket: obj({ port: 'int-or-string' }, ['port']),
  initialDelaySeconds: int,
  periodSeconds: int,
  timeoutSeconds: int,
  failureThreshold: int,
  successThreshold: int,
});
const envVar = obj(
  {
    name: str,
    value: str,
    valueFrom: obj({
      fieldRef: obj({ fieldPath: str, apiVersion: str }, ['fieldPath']),
      secretKeyRef: obj({ name: str, key: str, optional: 'bool' }, ['key']),
      configMapKeyRef: obj({ name: str, key: str, optional: 'bool' }, ['key']),
    }),
  },
  ['name'],
);
const container = obj(
  {
    name: str,
    image: str,
    command: list(str),
    args: list(str),
    env: list(envVar),
    ports: list(obj({ name: str, containerPort: int, protocol: str }, ['containerPort'])),
    resources,
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    securityContext: obj({
      allowPrivilegeEscalation: 'bool',
      readOnlyRootFilesystem: 'bool',
      runAsNonRoot: 'bool',
      runAsUser: int,
      runAsGroup: int,
      capabilities: 'any',
    }),
    volumeMounts: list(obj({ name: str, mountPath: str, readOnly: 'bool', subPath: str }, ['name', 'mountPath'])),
  },
  ['name', 'image'],
);
const volume = obj(
  {
    name: str,
    secret: obj({ secretName: str, defaultMode: int, items: list(obj({ key: str, path: str }, ['key', 'path'])) }),
    configMap: obj({ name: str, defaultMode: int }),
    emptyDir: obj({ medium: str, sizeLimit: 'quantity' }),
  },
  ['name'],
);
const podSpec = obj(
  {
    containers: list(container),
    volumes: list(volume),
    securityContext: obj({ runAsNonRoot: 'bool', runAsUser: int, runAsGroup: int, fsGroup: int }),
    terminationGracePeriodSeconds: int,
    affinity: 'any',
    serviceAccountName: str,
  },
  ['containers'],
);
const podTemplate = obj({ metadata: templateMeta, spec: podSpec }, ['spec']);
const pvcTemplate = obj(
  {
    metadata: obj({ name: str, labels: map(str) }, ['name']),
    spec: obj(
      { accessModes: list(str), storageClassName: str, resources: obj({ requests: map('quantity') }, ['requests']) },
      ['accessModes', 'resources'],
    ),
  },
  ['metadata', 'spec'],
);

/** apiVersion/kind → shape of the whole object */
const KINDS: Record<string, Shape> = {
  'v1/Namespace': obj({ apiVersion: str, kind: str, metadata }, ['metadata']),
  'v1/Secret': obj({ apiVersion: str, kind: str, metadata, type: str, data: map(str), stringData: map(str) }, [
    'metadata',
  ]),
  'v1/ConfigMap': obj({ apiVersion: str, kind: str, metadata, data: map(str) }, ['metadata']),
  'v1/Service': obj(
    {
      apiVersion: str,
      kind: str,
      metadata,
      spec: obj(
        {
          clusterIP: str,
          type: str,
          selector: map(str),
          publishNotReadyAddresses: 'bool',
          ports: list(obj({ name: str, port: int, targetPort: 'int-or-string', protocol: str }, ['port'])),
        },
        ['ports'],
      ),
    },
    ['metadata', 'spec'],
  ),
  'apps/v1/Deployment': obj(
    {
      apiVersion: str,
      kind: str,
      metadata,
      spec: obj(
        {
          replicas: int,
          selector: labelSelector,
          template: podTemplate,
          strategy: obj({
            type: str,
            rollingUpdate: obj({ maxUnavailable: 'int-or-string', maxSurge: 'int-or-string' }),
          }),
        },
        ['selector', 'template'],
      ),
    },
    ['metadata', 'spec'],
  ),
  'apps/v1/StatefulSet': obj(
    {
      apiVersion: str,
      kind: str,
      metadata,
      spec: obj(
        {
          serviceName: str,
          replicas: int,
          podManagementPolicy: str,
          selector: labelSelector,
          template: podTemplate,
          volumeClaimTemplates: list(pvcTemplate),
        },
        ['selector', 'template'],
      ),
    },
    ['metadata', 'spec'],
  ),
  'policy/v1/PodDisruptionBudget': obj(
    {
      apiVersion: str,
      kind: str,
      metadata,
      spec: obj({ minAvailable: 'int-or-string', maxUnavailable: 'int-or-string', selector: labelSelector }, [
        'selector',
      ]),
    },
    ['metadata', 'spec'],
  ),
  'monitoring.coreos.com/v1/ServiceMonitor': obj(
    {
      apiVersion: str,
      kind: str,
      metadata,
      spec: obj(
        {
          selector: labelSelector,
          namespaceSelector: 'any',
          endpoints: list(obj({ port: str, path: str, interval: str, scheme: str })),
        },
        ['selector', 'endpoints'],
      ),
    },
    ['metadata', 'spec'],
  ),
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;

function checkShape(v: unknown, s: Shape, path: string, out: string[]): void {
  if (s === 'any') return;
  if (s === 'string') {
    if (typeof v !== 'string') out.push(`${path}: expected a string, got ${JSON.stringify(v)}`);
  } else if (s === 'int') {
    if (!Number.isInteger(v)) out.push(`${path}: expected an integer, got ${JSON.stringify(v)}`);
  } else if (s === 'bool') {
    if (typeof v !== 'boolean') out.push(`${path}: expected true or false, got ${JSON.stringify(v)}`);
  } else if (s === 'int-or-string') {
    if (!Number.isInteger(v) && typeof v !== 'string') out.push(`${path}: expected an integer or a name`);
  } else if (s === 'quantity') {
    if (!(typeof v === 'string' && QUANTITY.test(v)) && !Number.isFinite(v))
      out.push(`${path}: ${JSON.stringify(v)} is not a quantity`);
  } else if ('list' in s) {
    if (!Array.isArray(v)) out.push(`${path}: expected a list`);
    else v.forEach((item, i) => checkShape(item, s.list, `${path}[${i}]`, out));
  } else if ('map' in s) {
    if (!isRecord(v)) out.push(`${path}: expected a map`);
    else for (const [k, item] of Object.entries(v)) checkShape(item, s.map, `${path}.${k}`, out);
  } else {
    if (!isRecord(v)) {
      out.push(`${path}: expected an object`);
      return;
    }
    for (const r of s.required ?? []) if (!(r in v)) out.push(`${path}: missing required field "${r}"`);
    for (const [k, item] of Object.entries(v)) {
      const fs = s.fields[k];
      if (fs === undefined) out.push(`${path}: unknown field "${k}"`);
      else checkShape(item, fs, `${path}.${k}`, out);
    }
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const typeKey = (o: K8sObject) => `${String(o.apiVersion)}/${String(o.kind)}`;
const nameOf = (o: K8sObject) => (isRecord(o.metadata) ? String(o.metadata.name) : '?');
/** "Deployment tessds-master" for messages */
export const describe = (o: K8sObject) => `${String(o.kind)} ${nameOf(o)}`;

/** Problems with one object on its own (field names, types, required fields), [] when none. */
export function checkObject(o: K8sObject): string[] {
  const shape = KINDS[typeKey(o)];
  if (!shape) return [`${describe(o)}: unknown apiVersion/kind ${typeKey(o)}`];
  const out: string[] = [];
  checkShape(o, shape, describe(o), out);
  if (!DNS_SUBDOMAIN.test(nameOf(o)) || nameOf(o).length > 253) out.push(`${describe(o)}: invalid name`);
  return out;
}

const matches = (selector: unknown, labels: unknown) =>
  isRecord(selector) &&
  isRecord(labels) &&
  Object.entries(selector).every(([k, v]) => labels[k] === v) &&
  Object.keys(selector).length > 0;

type Workload = { o: K8sObject; labels: Record<string, unknown>; pod: Record<string, unknown> };

function workloads(objects: K8sObject[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    const tpl = isRecord(o.spec) && isRecord(o.spec.template) ? o.spec.template : {};
    const labels = isRecord(tpl.metadata) && isRecord(tpl.metadata.labels) ? tpl.metadata.labels : {};
    out.push({ o, labels, pod: isRecord(tpl.spec) ? tpl.spec : {} });
  }
  return out;
}

const records = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/** Problems between objects of one rendered set: the rules the API server and controllers apply. */
export function checkSet(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const pods = workloads(objects);
  for (const { o, labels, pod } of pods) {
    const spec = isRecord(o.spec) ? o.spec : {};
    const sel = isRecord(spec.selector) ? spec.selector.matchLabels : undefined;
    if (!matches(sel, labels)) out.push(`${describe(o)}: selector does not match the pod template's labels`);
    if (o.kind === 'StatefulSet') {
      const svc = byKind('Service').find((s) => nameOf(s) === spec.serviceName);
      if (!svc || !isRecord(svc.spec) || svc.spec.clusterIP !== 'None')
        out.push(`${describe(o)}: serviceName ${String(spec.serviceName)} is not a headless Service of the set`);
    }
    const volumes = records(pod.volumes);
    for (const c of records(pod.containers)) {
      const where = `${describe(o)} container ${String(c.name)}`;
      const portNames = new Set(records(c.ports).map((p) => p.name));
      for (const pr of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const p = c[pr];
        if (!isRecord(p)) continue;
        const port = isRecord(p.httpGet) ? p.httpGet.port : isRecord(p.tcpSocket) ? p.tcpSocket.port : undefined;
        if (typeof port === 'string' && !portNames.has(port)) out.push(`${where}: ${pr} names no port "${port}"`);
        const handlers = ['httpGet', 'exec', 'tcpSocket'].filter((h) => h in p);
        if (handlers.length !== 1) out.push(`${where}: ${pr} needs exactly one of httpGet, exec, tcpSocket`);
      }
      const envNames = new Set(records(c.env).map((e) => e.name));
      for (const a of [...(Array.isArray(c.args) ? c.args : []), ...(Array.isArray(c.command) ? c.command : [])])
        for (const m of String(a).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
          if (!envNames.has(m[1])) out.push(`${where}: $(${m[1]}) is not a declared env var`);
      const claims = records(spec.volumeClaimTemplates).map((t) => (isRecord(t.metadata) ? t.metadata.name : ''));
      for (const vm of records(c.volumeMounts))
        if (!volumes.some((v) => v.name === vm.name) && !claims.includes(vm.name))
          out.push(`${where}: mounts volume "${String(vm.name)}", which the pod does not have`);
    }
    for (const v of volumes) {
      const vs = v.secret;
      if (!isRecord(vs)) continue;
      const secret = byKind('Secret').find((s) => nameOf(s) === vs.secretName);
      if (!secret) {
        out.push(`${describe(o)}: volume ${String(v.name)} names no Secret "${String(vs.secretName)}"`);
        continue;
      }
      const keys = new Set([
        ...Object.keys(isRecord(secret.data) ? secret.data : {}),
        ...Object.keys(isRecord(secret.stringData) ? secret.stringData : {}),
      ]);
      for (const item of records(vs.items))
        if (!keys.has(String(item.key)))
          out.push(`${describe(o)}: Secret ${nameOf(secret)} has no key "${String(item.key)}"`);
    }
  }
  for (const s of byKind('Service')) {
    const sel = isRecord(s.spec) ? s.spec.selector : undefined;
    const target = pods.find((w) => matches(sel, w.labels));
    if (!target) {
      out.push(`${describe(s)}: selector matches no pod template`);
      continue;
    }
    const names = new Set(records(target.pod.containers).flatMap((c) => records(c.ports).map((p) => p.name)));
    for (const p of records(isRecord(s.spec) ? s.spec.ports : []))
      if (typeof p.targetPort === 'string' && !names.has(p.targetPort))
        out.push(`${describe(s)}: targetPort "${p.targetPort}" is no port of ${describe(target.o)}`);
  }
  for (const b of byKind('PodDisruptionBudget')) {
    const sel = isRecord(b.spec) && isRecord(b.spec.selector) ? b.spec.selector.matchLabels : undefined;
    if (!pods.some((w) => matches(sel, w.labels))) out.push(`${describe(b)}: selector matches no pod template`);
    if (isRecord(b.spec) && 'minAvailable' in b.spec === 'maxUnavailable' in b.spec)
      out.push(`${describe(b)}: needs exactly one of minAvailable, maxUnavailable`);
  }
  for (const m of byKind('ServiceMonitor')) {
    const spec = isRecord(m.spec) ? m.spec : {};
    const sel = isRecord(spec.selector) ? spec.selector.matchLabels : undefined;
    const svc = byKind('Service').find((s) => matches(sel, isRecord(s.metadata) ? s.metadata.labels : undefined));
    if (!svc) out.push(`${describe(m)}: selector matches no Service's labels`);
    const ports = new Set(records(svc && isRecord(svc.spec) ? svc.spec.ports : []).map((p) => p.name));
    for (const e of records(spec.endpoints))
      if (!ports.has(e.port)) out.push(`${describe(m)}: endpoint port "${String(e.port)}" is no port of the Service`);
  }
  return out;
}

/** Whether the kubernetes-models package is installed next to this project. */
export const haveModels = (root: string) => existsSync(join(root, 'node_modules', 'kubernetes-models', 'package.json'));

/**
 * Validates `o` with kubernetes-models (installed: see haveModels): [] or the error, or 'no-model'
 * for a kind it does not know (a CRD such as ServiceMonitor).
 */
export async function checkWithModels(o: K8sObject): Promise<string[] | 'no-model'> {
  const apiVersion = String(o.apiVersion);
  const kind = String(o.kind);
  let mod: Record<string, unknown>;
  try {
    // kubernetes-models/<group>/<version>/<Kind>, core kinds without the group: kubernetes-models/v1/Service
    mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
  } catch {
    return 'no-model';
  }
  const Model = mod[kind] as (new (d: unknown) => { validate(): void }) | undefined;
  if (!Model) return 'no-model';
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    return [`${describe(o)}: ${(e as Error).message}`];
  }
}
