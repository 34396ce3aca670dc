// The liquidjs side of bench/render: the same template and the same generated data as
// render_bench.cpp (bench_data.js mirrors bench_data.cpp), rendered with renderSync on one
// thread.
//
//   node liquidjs_bench.js TEMPLATE [--data SCENARIO] [--contacts N] [--sample FILE] [--sample-every K]
//
// SCENARIO defaults to the template's file name without directory and extension. liquidjs has
// no money filter: one is registered with Intl.NumberFormat (en-US), which formats like
// rapport's money filter for en.
'use strict';
const fs = require('fs');
const path = require('path');
const { Liquid } = require(path.join(__dirname, '../../tools/node/node_modules/liquidjs'));
const { makeScenario } = require('./bench_data');

const args = process.argv.slice(2);
const templatePath = args[0];
let contacts = 1000000, sampleEvery = 10000, samplePath = '';
let scenarioName = path.basename(templatePath, path.extname(templatePath));
for (let i = 1; i + 1 < args.length; i += 2) {
  if (args[i] === '--contacts') contacts = Number(args[i + 1]);
  else if (args[i] === '--sample') samplePath = args[i + 1];
  else if (args[i] === '--sample-every') sampleEvery = Number(args[i + 1]);
  else if (args[i] === '--data') scenarioName = args[i + 1];
}
const scenario = makeScenario(scenarioName);
if (scenario === null) {
  console.error(`no data scenario named '${scenarioName}' (use --data)`);
  process.exit(2);
}

const engine = new Liquid();
const formats = {};
engine.registerFilter('money', (v, currency) => {
  const c = currency || 'USD';
  if (!formats[c]) formats[c] = new Intl.NumberFormat('en-US', { style: 'currency', currency: c });
  return formats[c].format(Number(v));
});
const tpl = engine.parse(fs.readFileSync(templatePath, 'utf8'));

const sample = samplePath ? fs.openSync(samplePath, 'w') : null;
let totalBytes = 0;
const start = process.hrtime.bigint();
for (let i = 0; i < contacts; ++i) {
  const out = engine.renderSync(tpl, scenario.data(i));
  totalBytes += out.length;
  if (sample !== null && i % sampleEvery === 0) fs.writeSync(sample, '=== contact ' + i + '\n' + out + '\n');
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (sample !== null) fs.closeSync(sample);
console.log(`liquidjs: ${contacts} renders in ${seconds.toFixed(3)} s = ${(contacts / seconds).toFixed(0)} renders/s ` +
  `(avg ${Math.round(totalBytes / contacts)} chars)`);
