/**
 * The house's import rules (docs/architecture.md): arrows point one way, from the entry points
 * (cli/, bench/) down to core/, and nothing forms a cycle. `npm run check:imports` and
 * test/house/imports.test.ts run them.
 */
const layer = (name, mayImport) => ({
  name: mayImport.length ? `${name}-imports-only-${mayImport.join('-')}` : `${name}-imports-nothing-else`,
  severity: 'error',
  comment: mayImport.length ? `${name}/ may import only ${mayImport.map((m) => `${m}/`).join(', ')}` : `${name}/ imports nothing else of this repository`,
  from: { path: `^${name}/` },
  to: { path: '^(core|servers|netem|load|reports|gate|capacity|dist|cli|bench|test)/', pathNot: `^(${[name, ...mayImport].join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    layer('core', []),
    layer('servers', ['core']),
    layer('netem', ['core']),
    layer('load', ['core', 'netem']),
    layer('reports', ['core', 'load']),
    layer('gate', ['core', 'reports', 'load']),
    layer('capacity', ['core', 'load', 'netem', 'reports', 'gate']),
    layer('dist', ['core', 'load', 'netem', 'reports', 'gate']),
    layer('cli', ['core', 'servers', 'load', 'netem', 'reports', 'gate', 'capacity', 'dist']),
    layer('bench', ['core', 'servers', 'load', 'netem', 'reports', 'gate', 'capacity', 'dist', 'cli']),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.tmp)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
