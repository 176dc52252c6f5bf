/**
 * The layer and cycle check that `npm test` runs (npm run check:layers). The layers are DESIGN.md's,
 * top to bottom: cli, chaos → control → cluster → partition → sim → io; a module may import its own
 * layer and the ones below it, never one above (a unit test beside the code may reach further, to
 * check one layer against another). errors.ts and timing.ts are shared leaves.
 */
const layers = ['cli', 'chaos', 'control', 'cluster', 'partition', 'sim', 'io'];
// chaos sits beside cli: both drive runs and may use everything below control
const above = {
  cli: [],
  chaos: ['cli'],
  control: ['cli', 'chaos'],
  cluster: ['cli', 'chaos', 'control'],
  partition: ['cli', 'chaos', 'control', 'cluster'],
  sim: ['cli', 'chaos', 'control', 'cluster', 'partition'],
  io: ['cli', 'chaos', 'control', 'cluster', 'partition', 'sim'],
};
module.exports = {
  forbidden: [
    ...layers
      .filter((l) => above[l].length > 0)
      .map((l) => ({
        name: `no-upward-from-${l}`,
        comment: `src/${l}/ may not import a layer above it (${above[l].join(', ')}); see DESIGN.md "Layers"`,
        severity: 'error',
        from: { path: `^src/${l}/`, pathNot: '\\.test\\.ts$' },
        to: { path: `^src/(${above[l].join('|')})/` },
      })),
    {
      name: 'no-cycles',
      comment: 'files may not import each other in a circle (type-only imports do not count: they vanish at run time)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'sim-is-pure',
      comment: 'sim/ reads no environment, clock, file system or process (DESIGN.md: sim is pure)',
      severity: 'error',
      from: { path: '^src/sim/', pathNot: '\\.test\\.ts$' },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|node:fs|fs/promises|node:fs/promises|child_process|node:child_process|process|node:process|os|node:os|net|node:net|http|node:http|timers|node:timers)$',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
