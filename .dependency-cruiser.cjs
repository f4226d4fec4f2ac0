// Layer rules checked by `npm run lint` (dependency-cruiser): imports read in one direction.
//   apps → packages, never back;
//   serving packages (what runs in the API and the workers) never import the API-side pipelines
//   (fasttext, ocr), the tools (topology, model-zoo, quantize) or the client SDK;
//   no cycles anywhere.
const SERVING = '^packages/(contract|config|telemetry|onnx|model-repository|batcher|runtime|queue)/';
const PIPELINES_AND_TOOLS = '^packages/(fasttext|ocr|topology|model-zoo|quantize|client)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules import each other in a ring',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-never-import-apps',
      severity: 'error',
      comment: 'a package is used by apps; it never reaches back into one',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-never-import-each-other',
      severity: 'error',
      comment: 'the API, the worker, the bench and the e2e tests share code through packages only',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'serving-never-imports-pipelines-or-tools',
      severity: 'error',
      comment: 'serving packages stay free of pre/post-processing pipelines, local-stack tools and the SDK',
      from: { path: SERVING },
      to: { path: PIPELINES_AND_TOOLS },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'] },
    combinedDependencies: true,
  },
};
