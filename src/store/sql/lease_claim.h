// The claim statement of a leased queue (core/work_queue.h, core/outbox.h): one UPDATE that
// leases the first `limit` claimable rows and returns them.
//
// A row is claimable for one of several reasons (queued, deferred, a lease that expired); each
// reason is one arm that reads its own index in order and only up to the limit, so a claim costs
// the same with 100 or 1,000,000 rows waiting (one OR over the reasons would collect and sort
// every claimable row first). On PostgreSQL each arm locks its rows FOR UPDATE SKIP LOCKED, so
// concurrent claimers on several nodes never wait for or take each other's rows.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace rapport::sql {

struct ClaimArm {
  std::string_view where;  // the reason, e.g. "state = 'queued' AND lane = $4 AND next_attempt_at <= $3"
  std::string_view order;  // its index order, e.g. "next_attempt_at, id"
};

// "UPDATE <table> SET <set> WHERE id IN (SELECT id FROM (<arm> UNION ALL ...) AS due ORDER BY
// <sort>, id LIMIT <limit>) RETURNING <returning>". Each arm selects (id, <sort>) of `table`.
inline std::string LeaseClaimStatement(std::string_view table, std::string_view set, std::string_view sort,
                                       std::initializer_list<ClaimArm> arms, std::string_view limit,
                                       std::string_view returning, bool pg) {
  std::string sql =
      "UPDATE " + std::string(table) + " SET " + std::string(set) + " WHERE id IN (SELECT id FROM (";
  bool first = true;
  for (const ClaimArm& arm : arms) {
    if (!first) sql += " UNION ALL ";
    first = false;
    sql += "SELECT id, " + std::string(sort) + " FROM (SELECT id, " + std::string(sort) + " FROM " +
           std::string(table) + " WHERE " + std::string(arm.where) + " ORDER BY " + std::string(arm.order) +
           " LIMIT " + std::string(limit) + (pg ? " FOR UPDATE SKIP LOCKED" : "") + ") AS a";
  }
  sql += ") AS due ORDER BY " + std::string(sort) + ", id LIMIT " + std::string(limit) + ") RETURNING " +
         std::string(returning);
  return sql;
}

}  // namespace rapport::sql
