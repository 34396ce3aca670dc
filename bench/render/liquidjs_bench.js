// The liquidjs side of bench/render: the same template and the same generated data as
// render_bench.cpp (same formulas), rendered with renderSync on one thread.
//
//   node liquidjs_bench.js TEMPLATE [--contacts N] [--sample FILE] [--sample-every K]
//
// liquidjs has no money filter: one is registered with Intl.NumberFormat (en-US), which
// formats like rapport's money filter for en.
'use strict';
const fs = require('fs');
const path = require('path');
const { Liquid } = require(path.join(__dirname, '../../tools/node/node_modules/liquidjs'));

const args = process.argv.slice(2);
const templatePath = args[0];
let contacts = 1000000, sampleEvery = 10000, samplePath = '';
for (let i = 1; i + 1 < args.length; i += 2) {
  if (args[i] === '--contacts') contacts = Number(args[i + 1]);
  else if (args[i] === '--sample') samplePath = args[i + 1];
  else if (args[i] === '--sample-every') sampleEvery = Number(args[i + 1]);
}

const FIRST = ['Ann', 'Bruno', 'Chloé', 'Dmitri', 'Elif', 'Farid', 'Greta', 'Hiro', 'Inès', 'Jonas', 'Kofi',
  'Lena', 'Mateo', 'Nora', 'Oskar', 'Priya', 'Quentin', 'Rosa', 'Sami', 'Tove'];
const CITIES = ['Paris', 'Lyon', 'Berlin', 'Madrid', 'Austin', 'Osaka', 'Lagos'];
const TITLES = ['Merino wool crew neck sweater', 'Canvas tote', 'Trail running shoes', 'Insulated water bottle',
  'Linen shirt', 'Down jacket with hood', 'Leather card holder', 'Cotton socks (3 pairs)', 'Rain shell', 'Beanie'];
const COLORS = ['black', 'navy', 'sand', 'forest green'];
const CURRENCIES = ['USD', 'EUR', 'GBP'];
const pad2 = (v) => (v < 10 ? '0' : '') + v;

const catalog = [];
for (let k = 0; k < 40; ++k) {
  catalog.push({
    slug: 'p-' + k,
    title: TITLES[k % 10] + ', ' + COLORS[k % 4],
    price: (500 + (k * 1379) % 20000) / 100,
    currency: CURRENCIES[k % 3],
    stock: k % 5 === 0 ? 0 : k % 17,
    restock_at: '2026-12-' + pad2(1 + k % 28) + 'T09:00:00Z',
  });
}
const campaign = { subject: "This week's picks", slug: 'winter picks & more', ends_at: '2026-12-24T23:59:00Z',
  list_name: 'Weekly Picks' };

function contact(i) {
  return {
    id: i + 1,
    first_name: i % 11 === 0 ? '' : FIRST[i % 20],
    email: 'User' + i + '@Example.com',
    vip: i % 13 === 0,
    plan: i % 3 === 0 ? 'pro' : 'free',
    created_at: '20' + (18 + i % 8) + '-' + pad2(1 + i % 12) + '-15T12:00:00Z',
    city: i % 4 === 0 ? null : CITIES[i % 7],
  };
}

function unsubscribeUrl(i) {
  const t = (BigInt(i) * 2654435761n) % 4294967296n;
  return 'https://mail.example.com/u/' + i + '?t=' + t.toString(16).padStart(8, '0');
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
  const products = [];
  for (let k = 0; k < 5; ++k) products.push(catalog[(i * 7 + k * 11) % 40]);
  const data = { contact: contact(i), products, campaign, unsubscribe_url: unsubscribeUrl(i) };
  const out = engine.renderSync(tpl, data);
  totalBytes += out.length;
  if (sample !== null && i % sampleEvery === 0) fs.writeSync(sample, '=== contact ' + i + '\n' + out + '\n');
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (sample !== null) fs.closeSync(sample);
console.log(`liquidjs: ${contacts} renders in ${seconds.toFixed(3)} s = ${(contacts / seconds).toFixed(0)} renders/s ` +
  `(avg ${Math.round(totalBytes / contacts)} chars)`);
