// The liquidjs peer of bench/campaign: renders the campaign's template (the same file rapport's
// campaign sends) with the same variables rapport's composer gives it, for the same contacts as
// the imported CSV (bench/campaign/run writes both from one generator), one thread, renderSync.
//
//   node liquidjs_campaign.js TEMPLATE DATA.json CONTACTS.csv COUNT
//
// DATA.json is the campaign's shared data (its top-level keys become top-level variables, as in
// rapport); CONTACTS.csv the imported contacts (email,first_name,plan,vip:bool,city,weekly:bool);
// COUNT how many to render (the first COUNT rows). Prints one line:
//   liquidjs: N renders in S s = R renders/s, CPU T s = P renders per CPU second (avg C chars)
// (one thread: on a shared machine its CPU time is what the renders cost on a core of its own).
// liquidjs has no money filter: one is registered with Intl.NumberFormat (en-US), as in
// bench/render/liquidjs_bench.js.
'use strict';
const fs = require('fs');
const path = require('path');

const [templatePath, dataPath, csvPath, countArg, liquidjsDir] = process.argv.slice(2);
const { Liquid } = require(liquidjsDir || path.join(__dirname, '../../tools/node/node_modules/liquidjs'));
const count = Number(countArg);
const shared = JSON.parse(fs.readFileSync(dataPath, 'utf8'));

// The contacts, parsed before the clock starts (rapport reads them from its store while timed;
// the peer is charged only for rendering).
const lines = fs.readFileSync(csvPath, 'utf8').split('\n');
const contacts = [];
const createdAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
for (let i = 1; i < lines.length && contacts.length < count; ++i) {
  if (!lines[i]) continue;
  const [email, firstName, plan, vip, city, weekly] = lines[i].split(',');
  const attributes = { plan, vip: vip === 'true', weekly: weekly === 'true' };
  if (firstName) attributes.first_name = firstName;
  if (city) attributes.city = city;
  contacts.push({ ...attributes, attributes, id: i, email, external_id: null, status: 'active', timezone: '',
    locale: '', created_at: createdAt });
}
if (contacts.length < count) {
  console.error(`only ${contacts.length} contacts in ${csvPath}`);
  process.exit(2);
}

const engine = new Liquid();
const formats = {};
engine.registerFilter('money', (v, currency) => {
  const c = currency || 'USD';
  if (!formats[c]) formats[c] = new Intl.NumberFormat('en-US', { style: 'currency', currency: c });
  return formats[c].format(Number(v));
});
const source = fs.readFileSync(templatePath, 'utf8');
const tpl = engine.parse(source);
const subject = engine.parse(shared.__subject || '');
delete shared.__subject;

let totalBytes = 0;
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < count; ++i) {
  const contact = contacts[i];
  const vars = { ...shared, data: shared, contact, message: { class: 'marketing' },
    unsubscribe_url: 'https://mail.shop.example/u/' + contact.id + '.AbCdEfGhIjKlMnOpQrStUvWx',
    preferences_url: 'https://mail.shop.example/p/' + contact.id + '.AbCdEfGhIjKlMnOpQrStUvWx',
    view_in_browser_url: 'https://mail.shop.example/v/' + contact.id + '.AbCdEfGhIjKlMnOpQrStUvWx' };
  vars.message.subject = engine.renderSync(subject, vars);
  const out = engine.renderSync(tpl, vars);
  totalBytes += out.length;
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`liquidjs: ${count} renders in ${seconds.toFixed(3)} s = ${(count / seconds).toFixed(0)} renders/s, ` +
  `CPU ${cpuSeconds.toFixed(3)} s = ${(count / cpuSeconds).toFixed(0)} renders per CPU second ` +
  `(avg ${Math.round(totalBytes / count)} chars)`);
