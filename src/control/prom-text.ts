/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests and tools:
 * every line must be a `# HELP`, a `# TYPE` or a sample `name{label="value",...} value [timestamp]`,
 * and every sample must belong to a family declared by `# TYPE`. Throws on the first bad line.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

/**
 * A sample value as Prometheus reads it (Go's ParseFloat): a number, or NaN / ±Inf in any case.
 * prom-client writes NaN as "Nan" (Node's event-loop-delay figures before their first sample).
 */
function parseValue(s: string, line: number): number {
  const special = s.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new Error(`line ${line}: bad sample value "${s}"`);
  return v;
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const familyOf = (sample: string): PromFamily | undefined => {
    const f = families.get(sample);
    if (f) return f;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (sample.endsWith(suffix)) {
        const g = families.get(sample.slice(0, -suffix.length));
        if (g && (g.type === 'histogram' || g.type === 'summary')) return g;
      }
    }
    return undefined;
  };
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trimEnd();
    if (line === '') return;
    let m: RegExpMatchArray | null;
    if ((m = line.match(new RegExp(`^# HELP (${NAME}) (.*)$`)))) {
      const f = families.get(m[1]!) ?? { name: m[1]!, type: 'untyped' as const, samples: [] };
      f.help = m[2]!;
      families.set(f.name, f);
    } else if ((m = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)))) {
      const f = families.get(m[1]!) ?? { name: m[1]!, type: 'untyped' as const, samples: [] };
      f.type = m[2] as PromFamily['type'];
      families.set(f.name, f);
    } else if (line.startsWith('#')) {
      throw new Error(`line ${n}: unknown comment "${line}"`);
    } else if ((m = line.match(SAMPLE))) {
      const labels: Record<string, string> = {};
      const body = m[2] ?? '';
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < body.length) {
        const start = LABEL.lastIndex;
        const l = LABEL.exec(body);
        if (!l || l.index !== start) throw new Error(`line ${n}: bad labels "{${body}}"`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        if (l[3] === '') break;
      }
      const f = familyOf(m[1]!);
      if (!f) throw new Error(`line ${n}: sample "${m[1]}" has no # TYPE`);
      f.samples.push({ name: m[1]!, labels, value: parseValue(m[3]!, n) });
    } else {
      throw new Error(`line ${n}: not a Prometheus text line: "${line}"`);
    }
  });
  return families;
}
