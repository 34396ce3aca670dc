// DuckDB's side of bench/segment: loads the CSVs written by segment_bench into an in-memory
// DuckDB (all cores), then runs each query `rounds` times and prints one JSON line per query
// with the count and the median time.  node duckdb_count.js DIR ROUNDS QUERIES.json
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

async function main() {
  const [dir, rounds, queriesFile] = process.argv.slice(2);
  const queries = JSON.parse(fs.readFileSync(queriesFile, 'utf8'));
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const t0 = Date.now();
  await con.run(`CREATE TABLE contacts AS SELECT * FROM read_csv_auto('${dir}/contacts.csv')`);
  await con.run(`CREATE TABLE events AS SELECT * FROM read_csv_auto('${dir}/events.csv')`);
  await con.run(`CREATE TABLE topics AS SELECT * FROM read_csv_auto('${dir}/topics.csv')`);
  console.log(JSON.stringify({ kind: 'load', engine: 'duckdb', seconds: (Date.now() - t0) / 1000 }));
  for (const q of queries) {
    const times = [];
    let count = null;
    for (let i = 0; i < Number(rounds); i++) {
      const s = process.hrtime.bigint();
      const reader = await con.runAndReadAll(q.sql);
      count = Number(reader.getRows()[0][0]);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ kind: 'count', engine: 'duckdb', name: q.name, count, median_ms: times[times.length >> 1] }));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
