// The data of bench/render's templates, generated per contact by the same formulas as
// bench_data.js (the liquidjs side), so both engines render the same emails.
//
// One Scenario per template (named after the template's file, e.g. "order" for order.liquid):
// data shared by every contact is converted once into the scenario's own arena; the data of
// contact i is built as boost::json (as rapport stores attributes), converted with FromJson into
// the caller's per-render arena and joined with the shared values.
//
// The templates and data stay clear of the places where liquidjs and ruby-liquid (which rapport
// follows) disagree, so that byte identity is a fair check: integer division is always followed
// by `floor` (liquidjs divides as floats), floats that may be whole are never printed bare
// (liquidjs prints 3.0 as "3"), money is computed in integer cents, a blank-only tag body never
// carries output whitespace (ruby-liquid drops it), and excerpts have more words than
// truncatewords keeps.
//
// Thread-safety: a Scenario is used by one thread. Failure: MakeScenario returns null for an
// unknown name.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/json/value.hpp>

#include "template/value.h"

namespace rapport::bench {

class Scenario {
 public:
  virtual ~Scenario() = default;
  // The top-level object for contact i. Values made for it live in `arena` or in `scratch`
  // (JSON the result points into), both valid until the next call.
  virtual liquid::Value Data(int64_t i, liquid::Arena& arena) = 0;

 protected:
  liquid::Arena shared_;     // shared data, converted once
  boost::json::value json_;  // contact i's JSON, kept alive for the Value views
  boost::json::value shared_json_;
};

// "email", "newsletter", "order" or "loyalty"; null for anything else.
std::unique_ptr<Scenario> MakeScenario(std::string_view name);

}  // namespace rapport::bench
