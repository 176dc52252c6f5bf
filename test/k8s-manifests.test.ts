/**
 * Issue 15, offline: deploy/kubernetes (and the deploy/prometheus-operator overlay) render with
 * `kubectl kustomize`, every object passes the structural check of test/k8s-schema.ts (and the
 * API's schema through kubernetes-models when that package is installed), every flag the containers
 * pass exists in `tessds <command> --help`, and the Grafana dashboard asks only for metrics the
 * master exports. Deliberately broken copies must fail.
 *
 * Skipped with a message where kubectl or Python's yaml module (to read kustomize's YAML; the
 * project has no YAML parser among its dependencies) is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../src/control/testing.js';
import { checkObject, checkSet, checkWithModels, describe, haveModels, type K8sObject } from './k8s-schema.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');
const YAML_TO_JSON = 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)';

function missingTools(): string | undefined {
  if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) return 'kubectl not found';
  if (spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' }).status !== 0)
    return "python3 with the yaml module not found (needed to read kustomize's output)";
  return undefined;
}
const skip = missingTools();

function render(dir: string): K8sObject[] {
  const k = spawnSync('kubectl', ['kustomize', join(repoRoot, dir)], { encoding: 'utf8' });
  assert.equal(k.status, 0, k.stderr);
  const j = spawnSync('python3', ['-c', YAML_TO_JSON], { input: k.stdout, encoding: 'utf8' });
  assert.equal(j.status, 0, j.stderr);
  return JSON.parse(j.stdout) as K8sObject[];
}

const clone = <T>(v: T): T => structuredClone(v);
const find = (objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && (x.metadata as { name?: string }).name === name);
  assert.ok(o, `${kind} ${name} rendered`);
  return o;
};
type Pod = { containers: Record<string, unknown>[] };
const podOf = (o: K8sObject) => (o.spec as { template: { spec: Pod } }).template.spec;

test('both kustomizations render, and every object passes the structural check, alone and as a set', { skip }, () => {
  for (const dir of ['deploy/kubernetes', 'deploy/prometheus-operator']) {
    const objects = render(dir);
    const kinds = objects.map((o) => `${String(o.kind)}`).sort();
    assert.ok(kinds.includes('Deployment') && kinds.includes('StatefulSet') && kinds.includes('PodDisruptionBudget'));
    assert.deepEqual(objects.flatMap(checkObject), [], dir);
    assert.deepEqual(checkSet(objects), [], dir);
  }
  assert.ok(render('deploy/prometheus-operator').some((o) => o.kind === 'ServiceMonitor'));
});

test(
  'every object of a built-in kind passes the Kubernetes API schema (kubernetes-models)',
  {
    skip:
      skip ?? (haveModels(repoRoot) ? undefined : 'kubernetes-models is not installed: only the structural check ran'),
  },
  async () => {
    const objects = render('deploy/prometheus-operator');
    let validated = 0;
    for (const o of objects) {
      const r = await checkWithModels(o);
      if (r === 'no-model') continue;
      assert.deepEqual(r, [], describe(o));
      validated++;
    }
    assert.ok(validated >= objects.length - 2, `validated ${validated} of ${objects.length}`); // all but the CRD, ConfigMap may lack a model
    const broken = clone(find(objects, 'Deployment', 'tessds-master'));
    delete (broken.spec as Record<string, unknown>).selector;
    assert.notDeepEqual(await checkWithModels(broken), []);
  },
);

test(
  'broken manifests fail: no selector, a container without image, a misspelt field, a selector that misses the pods',
  { skip },
  () => {
    const objects = render('deploy/kubernetes');
    const master = find(objects, 'Deployment', 'tessds-master');

    const noSelector = clone(master);
    delete (noSelector.spec as Record<string, unknown>).selector;
    assert.ok(
      checkObject(noSelector).some((p) => /missing required field "selector"/.test(p)),
      'no selector',
    );

    const noImage = clone(master);
    delete podOf(noImage).containers[0]!.image;
    assert.ok(
      checkObject(noImage).some((p) => /missing required field "image"/.test(p)),
      'no image',
    );

    const typo = clone(master);
    const c = podOf(typo).containers[0]!;
    c.readinesProbe = c.readinessProbe;
    delete c.readinessProbe;
    assert.ok(
      checkObject(typo).some((p) => /unknown field "readinesProbe"/.test(p)),
      'misspelt field',
    );

    const wrongPort = clone(master);
    (podOf(wrongPort).containers[0]!.livenessProbe as { httpGet: { port: string } }).httpGet.port = 'htp';
    assert.ok(checkSet(objects.map((o) => (o === master ? wrongPort : o))).some((p) => /names no port "htp"/.test(p)));

    const worker = find(objects, 'StatefulSet', 'tessds-worker');
    const mismatch = clone(worker);
    (mismatch.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels[
      'app.kubernetes.io/component'
    ] = 'workers';
    const problems = checkSet(objects.map((o) => (o === worker ? mismatch : o)));
    assert.ok(
      problems.some((p) => /selector does not match the pod template/.test(p)),
      problems.join('\n'),
    );

    const stringReplicas = clone(worker);
    (stringReplicas.spec as Record<string, unknown>).replicas = '3';
    assert.ok(checkObject(stringReplicas).some((p) => /replicas: expected an integer/.test(p)));
  },
);

test('every flag a tessds container passes is one `tessds <command> --help` lists', { skip }, () => {
  const objects = render('deploy/kubernetes');
  let checked = 0;
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    for (const c of podOf(o).containers) {
      if (!String(c.image).startsWith('tessds')) continue;
      const [command, ...args] = c.args as string[];
      const help = spawnSync(process.execPath, [cli, command!, '--help'], { encoding: 'utf8' });
      assert.equal(help.status, 0, help.stderr);
      for (const a of args) {
        const flag = a.split('=')[0]!;
        assert.ok(help.stdout.includes(`${flag} `), `${describe(o)}: tessds ${command} has no ${flag}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 8, `checked ${checked} flags`);
});

test("the Grafana dashboard asks only for metrics the master's /metrics exports", () => {
  const dashboard = readFileSync(join(repoRoot, 'deploy/kubernetes/grafana/tessds-dashboard.json'), 'utf8');
  const exported = new Set(
    [
      ...readFileSync(join(repoRoot, 'src/control/master-metrics.ts'), 'utf8').matchAll(/name: '(tessds_[a-z_]+)'/g),
    ].map((m) => m[1]),
  );
  const asked = new Set([...dashboard.matchAll(/\b(tessds_[a-z_]+)\b/g)].map((m) => m[1]));
  assert.ok(asked.size >= 5, [...asked].join(', '));
  for (const m of asked) assert.ok(exported.has(m), `${m} is not exported by the master`);
  JSON.parse(dashboard);
});
