// Evaluating a checked expression against the profile index: a scan over every contact of a
// workspace (a Bitmap of rows), one contact (with the next moment its membership can change,
// for the deadline queue), and an explanation of each predicate for one contact.
//
// Semantics (docs/segments.md): a comparison with an absent value is false (so `city != "Paris"`
// needs a city, while `not city = "Paris"` includes contacts without one); text = and < are
// exact and by byte order, contains / starts with / ends with are case-insensitive; dates are
// compared in the contact's timezone (the workspace's default when the contact has none);
// behavior counts events at or before now, within the window when one is given.
// Thread-safety: reads the index; the caller holds its lock.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "segment/ast.h"
#include "segment/bitmap.h"
#include "segment/filter_rows.h"
#include "segment/profile_index.h"

namespace date {
class time_zone;  // <date/tz.h>, kept out of this header
}  // namespace date

namespace rapport::segment {

// How a binding reaches another saved segment's current members (by name).
using SegmentLookup = std::function<const Bitmap*(const std::string& name)>;

struct EvalContext {
  int64_t now = 0;                       // microseconds
  std::string default_timezone = "UTC";  // the workspace's
  SegmentLookup segments;                // for `in segment "x"`
};

// Registers the streams the expression's behaviors need (Behavior::stream) and returns the ids
// of the streams that are new (the caller replays the log into them before evaluating).
std::vector<int> BindStreams(Expr& e, ProfileIndex& index);

class Evaluator {
 public:
  Evaluator(const ProfileIndex& index, EvalContext ctx);

  // Every member among `universe` (the workspace's live rows): always a subset of `universe`.
  Bitmap Scan(const Expr& e, const Bitmap& universe);
  // True when Scan answers `e` by bitmap operations alone (no pass over rows).
  bool FromBitmaps(const Expr& e) const;
  // How Scan orders the operands of `and` (lower first): 0 answered from bitmaps, 1 a count in
  // a window (a union of the stream's day bitmaps, then a look at the rows it leaves), 2 a pass
  // over the candidate rows. Ranks 0 and 1 are not worth splitting over threads.
  int Rank(const Expr& e) const;
  // The operands of an `and` in the order Scan takes them: by Rank, and those of rank 0 by
  // Estimate (fewest rows first), each group in the order written otherwise.
  std::vector<const Expr*> Order(const Expr& e) const;
  // An upper bound on the rows an operand of rank 0 can match (UINT64_MAX when unknown).
  uint64_t Estimate(const Expr& e) const;
  // The test of an attribute comparison that Scan answers from its column's values (a text `=`
  // or `in` over codes, when the values' bitmaps hold more than `rows` rows; a number compared
  // with a number); nullopt for any other expression. Valid until the index changes.
  std::optional<ColumnTest> ColumnTestFor(const Expr& e, uint64_t rows) const;
  // The tests of the operands order[*i], order[*i + 1] ... that have one (ColumnTestFor), up to
  // the first that has none; advances *i past them.
  std::vector<ColumnTest> ColumnTests(const std::vector<const Expr*>& order, size_t* i, uint64_t rows) const;
  // One row; `next_change` (when not null) is lowered to the first moment after now at which
  // the result may change as time passes (unchanged when it cannot).
  bool Matches(const Expr& e, Row r, int64_t* next_change = nullptr);

  struct Step {
    std::string predicate;  // its text as written
    bool result = false;
    json::value value;  // what the contact has for it (attribute value, count, time ...)
    int depth = 0;
    std::string op;  // "and", "or", "not" for combinators; empty for predicates
  };
  // Each node in pre-order with its result for the row.
  std::vector<Step> Explain(const Expr& e, Row r);

 private:
  struct TzDay {
    int64_t today = 0;          // days since the epoch, local
    int64_t next_midnight = 0;  // microseconds UTC
    const date::time_zone* zone = nullptr;
  };
  const TzDay& Day(Row r);
  // The local calendar day (days since the epoch) of a time, in the row's timezone.
  int64_t LocalDay(int64_t micros, Row r);
  // `exactly N days ago / from now`: true when today (local) is `day`; lowers *next to the local
  // midnight at which that starts (a day to come) or stops (today) being true.
  bool IsToday(int64_t day, Row r, int64_t* next);
  bool Leaf(const Expr& e, Row r, int64_t* next);
  bool FieldRow(const Expr& e, Row r, int64_t* next);
  bool BehaviorRow(const Behavior& b, Row r, int64_t* next, json::value* shown);
  bool TimeCondition(const Condition& c, int64_t micros, Row r, int64_t* next);
  bool DateCondition(const Condition& c, int64_t days, Row r, int64_t* next);
  json::value Shown(const Expr& e, Row r);
  // Rows outside the leaf's candidates all get one result; returns the candidates.
  Bitmap Candidates(const Expr& e, const Bitmap& universe, bool* outside);

  const ProfileIndex& index_;
  EvalContext ctx_;
  std::vector<std::optional<TzDay>> tz_days_;  // by timezone code
  std::vector<std::string> tz_names_;
};

// Evaluator::Scan split by row range over up to `threads` threads (the caller's included), each
// with an Evaluator of its own; the same members as one Scan. Small universes (under
// kParallelScanMinRows) are scanned on the calling thread. Reads the index only: the caller
// holds its lock (shared is enough) for the whole call.
inline constexpr uint64_t kParallelScanMinRows = 1 << 17;
Bitmap ParallelScan(const ProfileIndex& index, const EvalContext& ctx, const Expr& e, const Bitmap& universe,
                    unsigned threads, uint64_t min_rows = kParallelScanMinRows);
// The scan threads to use on this machine (its hardware threads, at most 8).
unsigned ScanThreads();

// The stable random bucket (0..99) of a contact for a salt.
int RandomBucket(ContactId id, std::string_view salt);

}  // namespace rapport::segment
