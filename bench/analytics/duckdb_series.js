// DuckDB's side of bench/analytics: loads DIR/events.csv (written by analytics_bench fold) into
// an in-memory DuckDB (all cores), then runs the overview's queries `rounds` times: the daily
// series of sends, unique human opens, unique human clicks, orders and revenue, and the top
// templates by unique human clicks. Prints one JSON line with the totals (they must agree with
// rapport's) and the median time of the whole set.  node duckdb_series.js DIR ROUNDS
const { DuckDBInstance } = require('@duckdb/node-api');

const DAY = 86400000000;
const QUERIES = [
  `SELECT "at" // ${DAY} AS day, count(*) FILTER (WHERE name = 'message.queued') AS sent,
          count(*) FILTER (WHERE name = 'message.sent') AS delivered,
          count(*) FILTER (WHERE name = 'order_placed') AS orders,
          sum(total) FILTER (WHERE name = 'order_placed') AS revenue
     FROM events GROUP BY day ORDER BY day`,
  `SELECT first_at // ${DAY} AS day, count(*) AS opened_human FROM (
     SELECT message_id, min("at") AS first_at FROM events
      WHERE (name = 'email_opened' OR name = 'email_clicked') AND NOT machine GROUP BY message_id)
    GROUP BY day ORDER BY day`,
  `SELECT first_at // ${DAY} AS day, count(*) AS clicked_human FROM (
     SELECT message_id, min("at") AS first_at FROM events
      WHERE name = 'email_clicked' AND NOT machine GROUP BY message_id)
    GROUP BY day ORDER BY day`,
  `SELECT template, count(DISTINCT message_id) AS clicked FROM events
    WHERE name = 'email_clicked' AND NOT machine GROUP BY template ORDER BY clicked DESC LIMIT 10`,
];

async function main() {
  const [dir, rounds] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const t0 = Date.now();
  await con.run(`CREATE TABLE events AS SELECT * FROM read_csv('${dir}/events.csv', header = true,
    columns = {'contact_id': 'BIGINT', 'name': 'VARCHAR', 'at': 'BIGINT', 'message_id': 'BIGINT',
               'template': 'VARCHAR', 'machine': 'BOOLEAN', 'total': 'DOUBLE'})`);
  const load = (Date.now() - t0) / 1000;
  const times = [];
  let totals = null;
  for (let i = 0; i < Number(rounds); i++) {
    const s = process.hrtime.bigint();
    const results = [];
    for (const q of QUERIES) results.push((await con.runAndReadAll(q)).getRows());
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    const sum = (rows, col) => rows.reduce((a, r) => a + Number(r[col] ?? 0), 0);
    totals = { sent: sum(results[0], 1), orders: sum(results[0], 3), order_revenue: sum(results[0], 4),
               opened_human: sum(results[1], 1), clicked_human: sum(results[2], 1) };
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ kind: 'duckdb', load_seconds: load, median_ms: times[times.length >> 1], ...totals }));
}
main().catch((e) => { console.error(e); process.exit(1); });
