#include "bench_data.h"

#include <boost/json.hpp>

#include <cstdio>
#include <string>

namespace rapport::bench {

namespace lq = rapport::liquid;
namespace json = boost::json;

namespace {

const char* kFirst[] = {"Ann",   "Bruno", "Chloé",   "Dmitri", "Elif", "Farid", "Greta",
                        "Hiro",  "Inès",  "Jonas",   "Kofi",   "Lena", "Mateo", "Nora",
                        "Oskar", "Priya", "Quentin", "Rosa",   "Sami", "Tove"};
const char* kCities[] = {"Paris", "Lyon", "Berlin", "Madrid", "Austin", "Osaka", "Lagos"};
const char* kCurrencies[] = {"USD", "EUR", "GBP"};

std::string Pad2(int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

lq::Value Top(lq::Arena& arena, const lq::Member* members, size_t n) {
  return lq::Value::Object(lq::MakeObject(arena, members, n));
}

// email.liquid: a marketing email with five products of a shared catalog.
class EmailScenario final : public Scenario {
 public:
  EmailScenario() {
    const char* titles[] = {"Merino wool crew neck sweater",
                            "Canvas tote",
                            "Trail running shoes",
                            "Insulated water bottle",
                            "Linen shirt",
                            "Down jacket with hood",
                            "Leather card holder",
                            "Cotton socks (3 pairs)",
                            "Rain shell",
                            "Beanie"};
    const char* colors[] = {"black", "navy", "sand", "forest green"};
    json::array catalog;
    for (int k = 0; k < 40; ++k) {
      json::object p;
      p["slug"] = "p-" + std::to_string(k);
      p["title"] = std::string(titles[k % 10]) + ", " + colors[k % 4];
      p["price"] = (500 + (k * 1379) % 20000) / 100.0;
      p["currency"] = kCurrencies[k % 3];
      p["stock"] = k % 5 == 0 ? 0 : k % 17;
      p["restock_at"] = "2026-12-" + Pad2(1 + k % 28) + "T09:00:00Z";
      catalog.push_back(std::move(p));
    }
    shared_json_ = json::object{{"catalog", std::move(catalog)},
                                {"campaign",
                                 {{"subject", "This week's picks"},
                                  {"slug", "winter picks & more"},
                                  {"ends_at", "2026-12-24T23:59:00Z"},
                                  {"list_name", "Weekly Picks"}}}};
    catalog_ = lq::FromJson(shared_json_.at("catalog"), shared_);
    campaign_ = lq::FromJson(shared_json_.at("campaign"), shared_);
  }

  lq::Value Data(int64_t i, lq::Arena& arena) override {
    json::object c;
    c["id"] = i + 1;
    c["first_name"] = i % 11 == 0 ? "" : kFirst[i % 20];
    c["email"] = "User" + std::to_string(i) + "@Example.com";
    c["vip"] = i % 13 == 0;
    c["plan"] = i % 3 == 0 ? "pro" : "free";
    c["created_at"] = "20" + std::to_string(18 + i % 8) + "-" + Pad2(1 + i % 12) + "-15T12:00:00Z";
    if (i % 4 == 0) {
      c["city"] = nullptr;
    } else {
      c["city"] = kCities[i % 7];
    }
    json_ = std::move(c);
    char buf[96];
    int n = std::snprintf(
        buf, sizeof buf, "https://mail.example.com/u/%lld?t=%08llx", static_cast<long long>(i),
        static_cast<unsigned long long>((static_cast<uint64_t>(i) * 2654435761u) % 4294967296u));
    lq::Value products[5];
    for (int k = 0; k < 5; ++k) products[k] = catalog_.as_array().items[(i * 7 + k * 11) % 40];
    lq::Member members[4] = {
        {"contact", lq::FromJson(json_, arena)},
        {"products", lq::Value::Array(lq::MakeArray(arena, products, 5))},
        {"campaign", campaign_},
        {"unsubscribe_url", lq::Value::String(arena.Copy(std::string_view(buf, static_cast<size_t>(n))))},
    };
    return Top(arena, members, 4);
  }

 private:
  lq::Value catalog_, campaign_;
};

// newsletter.liquid: a weekly newsletter of 20 articles out of a shared pool of 40.
class NewsletterScenario final : public Scenario {
 public:
  static constexpr int64_t kSentAt = 1796371200;  // 2026-12-04T00:00:00Z

  NewsletterScenario() {
    const char* titles[] = {"How we cut our build times in half with remote caching",
                            "A field guide to accessible color palettes",
                            "Shipping weekly: what two years of small releases taught us",
                            "Inside the on-call rotation",
                            "Threat modeling for small teams",
                            "Designing empty states that help",
                            "Postgres partitioning in practice",
                            "The case for boring technology, revisited",
                            "Writing product specs people actually read",
                            "Notes from our first offsite"};
    const char* categories[] = {"Engineering", "Design", "Product", "Culture", "Security"};
    const char* authors[] = {"Maya Lindqvist", "Tomás Herrera", "Aiko Tanaka", "Sam O'Neil",
                             "Priya Raman",    "Lucas Meyer",   "Zoë Adeyemi"};
    const char* tags[] = {"Performance", "CI",     "Accessibility", "Color",    "Process", "Releases",
                          "On Call",     "Threat", "Databases",     "Postgres", "Writing", "Team"};
    const char* excerpts[] = {
        "<p>We moved every build step behind a shared <strong>remote cache</strong> and measured what "
        "changed for the forty engineers who wait on CI every day, from first commit to deploy.</p>",
        "<p>Contrast ratios are only the start: this guide walks through <em>palettes</em> that stay "
        "readable for color-blind readers, in dark mode, on cheap screens and in bright sunlight.</p>",
        "<p>Small releases are not free. Two years in, here is what we would keep, what we would drop "
        "and the three checks that caught most of our regressions before customers did.</p>",
        "<p>A week in the life of the person holding the pager: the alerts that matter, the ones we "
        "deleted, and how handovers became <a href=\"/handover\">a ten minute ritual</a> that people "
        "like.</p>",
        "<p>You do not need a security team to think like an attacker. Start with a whiteboard, a list "
        "of assets and an honest hour; we share the template we use for every new service.</p>",
        "<p>An empty screen is a promise. We rewrote every empty state in the product and watched "
        "activation move; here are the before and after screenshots and the copy we chose.</p>"};
    json::array pool;
    for (int64_t k = 0; k < 40; ++k) {
      json::object a;
      a["title"] =
          std::string(titles[k % 10]) + (k >= 10 ? " (part " + std::to_string(1 + k / 10) + ")" : "");
      a["slug"] = "a-" + std::to_string(k);
      a["category"] = categories[k % 5];
      a["author"] = json::object{{"name", authors[k % 7]}};
      a["read_minutes"] = 3 + (k * 7) % 12;
      // views / 100 is never a multiple of 10, so views / 100 / 10.0 always prints a fraction
      // (liquidjs prints a whole float without ".0").
      a["views"] = 1000 * ((k * 37) % 90) + 100 * (1 + k % 9) + (k * 13) % 100;
      json::array t;
      for (int64_t j = 0; j < k % 5; ++j) t.push_back(json::string(tags[(k + j * 3) % 12]));
      a["tags"] = std::move(t);
      a["excerpt"] = excerpts[k % 6];
      a["published_at"] = kSentAt - 3600 * (5 + (k * 11) % 160);
      a["featured"] = k % 6 == 0;
      pool.push_back(std::move(a));
    }
    shared_json_ = json::object{{"pool", std::move(pool)},
                                {"newsletter",
                                 {{"title", "The Weekly Build"},
                                  {"issue", 142},
                                  {"slug", "weekly build 142 & friends"},
                                  {"sent_at", kSentAt},
                                  {"next_in_days", 7}}}};
    pool_ = lq::FromJson(shared_json_.at("pool"), shared_);
    newsletter_ = lq::FromJson(shared_json_.at("newsletter"), shared_);
  }

  lq::Value Data(int64_t i, lq::Arena& arena) override {
    json::object c;
    c["id"] = i + 1;
    std::string first = i % 9 == 0 ? "" : kFirst[i % 20];
    if (i % 2 == 1) {
      for (char& ch : first) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    c["first_name"] = first;
    c["email"] = "Reader" + std::to_string(i) + "@Example.org";
    c["plan"] = i % 5 == 0 ? "supporter" : "free";
    json_ = std::move(c);
    lq::Value articles[20];
    for (int64_t k = 0; k < 20; ++k) articles[k] = pool_.as_array().items[(i * 3 + k * 7) % 40];
    lq::Member members[3] = {
        {"contact", lq::FromJson(json_, arena)},
        {"articles", lq::Value::Array(lq::MakeArray(arena, articles, 20))},
        {"newsletter", newsletter_},
    };
    return Top(arena, members, 3);
  }

 private:
  lq::Value pool_, newsletter_;
};

// order.liquid: an order confirmation with 1-6 line items, money in cents, a discount for one
// contact in four, and recommendations that are empty for one contact in three.
class OrderScenario final : public Scenario {
 public:
  OrderScenario() {
    const char* names[] = {"Ceramic pour-over coffee dripper",
                           "Stoneware mug, 350 ml",
                           "Burr grinder",
                           "Paper filters (100)",
                           "Gooseneck kettle",
                           "Cold brew bottle",
                           "Espresso cups, set of 2",
                           "Tea infuser",
                           "Oat milk frother",
                           "Coffee scale with timer",
                           "Travel tumbler",
                           "Beans: Ethiopia Guji 250 g"};
    json::array items;
    for (int64_t k = 0; k < 24; ++k) {
      json::object p;
      p["name"] = std::string(names[k % 12]) + (k >= 12 ? " (limited)" : "");
      p["sku"] = "sku-" + std::to_string(1000 + k * 17);
      p["price_cents"] = 450 + (k * 1379) % 12000;
      items.push_back(std::move(p));
    }
    shared_json_ = json::object{{"items", std::move(items)}};
  }

  lq::Value Data(int64_t i, lq::Arena& arena) override {
    const json::array& catalog = shared_json_.at("items").as_array();
    json::object contact;
    contact["first_name"] = i % 10 == 0 ? "" : kFirst[i % 20];
    contact["email"] = "buyer" + std::to_string(i) + "@example.net";
    json::object order;
    order["number"] = (i * 37) % 1000000 + 1;
    order["placed_at"] = 1796000000 + i * 617;
    order["currency"] = kCurrencies[i % 3];
    json::array lines;
    for (int64_t j = 0; j < 1 + i % 6; ++j) {
      json::object line = catalog[(i * 5 + j * 7) % 24].as_object();
      line["quantity"] = 1 + (i + j) % 3;
      line["gift"] = (i + j) % 7 == 0;
      lines.push_back(std::move(line));
    }
    order["items"] = std::move(lines);
    if (i % 4 == 0) {
      order["discount_code"] = "winter" + std::to_string(10 + (i % 3) * 5);
      order["discount_pct"] = 10 + (i % 3) * 5;
    } else {
      order["discount_code"] = nullptr;
      order["discount_pct"] = 0;
    }
    order["shipping_cents"] = i % 5 == 0 ? 0 : 495 + (i % 3) * 100;
    const int64_t rates[] = {825, 725, 1050};
    order["tax_rate_bp"] = rates[i % 3];
    order["ship_days"] = 2 + i % 5;
    order["shipping_address"] = json::object{{"name", std::string(kFirst[i % 20]) + " Doe"},
                                             {"line1", std::to_string(i % 300 + 1) + " Market Street"},
                                             {"city", kCities[i % 7]},
                                             {"zip", std::to_string(10000 + i % 89999)},
                                             {"country", "US"}};
    json::array recs;
    if (i % 3 != 0) {
      for (int64_t j = 0; j < 3 + i % 2; ++j) recs.push_back(catalog[(i * 11 + j * 5) % 24]);
    }
    json_ = json::object{{"contact", std::move(contact)},
                         {"order", std::move(order)},
                         {"recommendations", std::move(recs)},
                         {"store_url", "https://brew.example.com"}};
    return lq::FromJson(json_, arena);
  }
};

// loyalty.liquid: a points statement with tiers, a history of 6-15 transactions and the
// rewards a member can afford.
class LoyaltyScenario final : public Scenario {
 public:
  LoyaltyScenario() {
    const char* names[] = {"Free coffee",   "Tote bag",         "Tasting session", "Mug",
                           "Gift card $10", "Barista workshop", "Grinder upgrade", "Bean subscription",
                           "Cap",           "Early access",     "Kettle",          "Pastry"};
    const char* categories[] = {"coffee", "merch", "events", "coffee", "gifts", "events", "gear"};
    json::array rewards;
    for (int64_t k = 0; k < 14; ++k) {
      json::object r;
      r["name"] = names[k % 12];
      r["cost"] = 150 + (k * 733) % 4000;
      r["category"] = categories[k % 7];
      r["available"] = k % 5 != 3;
      rewards.push_back(std::move(r));
    }
    shared_json_ = json::object{{"rewards", std::move(rewards)},
                                {"program", {{"name", "Bean Club"}, {"points_per_dollar", 10}}}};
    rewards_ = lq::FromJson(shared_json_.at("rewards"), shared_);
    program_ = lq::FromJson(shared_json_.at("program"), shared_);
  }

  lq::Value Data(int64_t i, lq::Arena& arena) override {
    const char* tiers[] = {"bronze", "silver", "gold", "platinum"};
    const char* interests[] = {"coffee", "merch", "events", "gear", "gifts"};
    const char* descriptions[] = {"purchase in store",         "online order",          "birthday bonus",
                                  "referral: a friend joined", "redeemed for a reward", "review bonus",
                                  "double points weekend",     "survey answered"};
    json::object c;
    c["first_name"] = i % 7 == 0 ? "" : kFirst[i % 20];
    c["tier"] = tiers[i % 4];
    c["tier_points"] = (i * 389) % 6000;
    c["points_balance"] = (i * 131) % 5000;
    c["member_since"] = 1600000000 + (i * 86400 * 3) % 190000000;
    std::string in;
    for (int64_t j = 0; j < 1 + i % 3; ++j) {
      if (j) in += ",";
      in += interests[(i + j * 2) % 5];
    }
    c["interests"] = in;
    json::array activity;
    for (int64_t j = 0; j < 6 + i % 10; ++j) {
      json::object t;
      t["kind"] = j % 3 == 2 ? "redeem" : "earn";
      t["points"] = 10 + (i * 7 + j * 13) % 400;
      t["description"] = descriptions[(i + j) % 8];
      t["at"] = 1796371200 - j * 86400 * 3 - (i % 86400);
      if (j % 2 == 0) {
        t["order_ref"] = "R-" + std::to_string(i * 10 + j);
      } else {
        t["order_ref"] = nullptr;
      }
      activity.push_back(std::move(t));
    }
    json_ = json::object{{"contact", std::move(c)}, {"activity", std::move(activity)}};
    lq::Member members[4] = {
        {"contact", lq::FromJson(json_.at("contact"), arena)},
        {"activity", lq::FromJson(json_.at("activity"), arena)},
        {"rewards", rewards_},
        {"program", program_},
    };
    return Top(arena, members, 4);
  }

 private:
  lq::Value rewards_, program_;
};

}  // namespace

std::unique_ptr<Scenario> MakeScenario(std::string_view name) {
  if (name == "email") return std::make_unique<EmailScenario>();
  if (name == "newsletter") return std::make_unique<NewsletterScenario>();
  if (name == "order") return std::make_unique<OrderScenario>();
  if (name == "loyalty") return std::make_unique<LoyaltyScenario>();
  return nullptr;
}

}  // namespace rapport::bench
