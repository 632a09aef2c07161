// Builds the claim page: claim-page/claim.js bundled (esbuild, with @noble/curves and
// @noble/hashes from npm) into claim-page/claim.html, written to itgen_chain/data/claim.html.
// Run by `make claim-page`; a test fails while the packaged page lags its source.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = await build({
  entryPoints: [join(root, 'claim-page', 'claim.js')],
  bundle: true, format: 'iife', globalName: 'claimPage', minify: true, write: false,
  target: 'es2020', legalComments: 'inline',
});
const script = result.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const page = readFileSync(join(root, 'claim-page', 'claim.html'), 'utf8').replace('/*BUNDLE*/', () => script);
writeFileSync(process.argv[2] || join(root, 'itgen_chain', 'data', 'claim.html'), page);
console.log(`wrote ${process.argv[2] || 'itgen_chain/data/claim.html'} (${page.length} bytes)`);
