#include "app/demo_data.h"

#include <date/date.h>
#include <fmt/format.h>

#include <array>
#include <random>

#include "app/app_context.h"
#include "campaign/campaign_model.h"
#include "campaign/governor.h"
#include "http/api_key.h"
#include "send/signup.h"

namespace rapport::app {

namespace {

constexpr int kContacts = 300;

constexpr std::array kFirstNames = {
    "Ada",   "Bruno", "Chloé",  "Daniel", "Emma",   "Farid", "Grace", "Hiro", "Inès",  "Jonas",
    "Kate",  "Liam",  "Maya",   "Noah",   "Olivia", "Pablo", "Quinn", "Rosa", "Sami",  "Tara",
    "Umar",  "Vera",  "Wei",    "Ximena", "Yusuf",  "Zoé",   "Aiko",  "Ben",  "Carla", "Dmitri",
    "Elena", "Felix", "Giulia", "Hannah", "Ivan",   "Julia", "Karim", "Lena", "Mateo", "Nora"};
constexpr std::array kLastNames = {
    "Martin", "Smith", "Müller",  "Rossi",  "García", "Tanaka", "Nguyen", "Kowalski", "Dubois", "Jones",
    "Silva",  "Kim",   "Novak",   "Larsen", "Costa",  "Brown",  "Moreau", "Wilson",   "Ito",    "Schmidt",
    "López",  "Khan",  "Bianchi", "Taylor", "Petit",  "Meyer",  "Santos", "Cohen",    "Ali",    "Walker"};

struct City {
  const char* name;
  const char* timezone;
  const char* locale;
};
constexpr std::array kCities = {City{"New York", "America/New_York", "en-US"},
                                City{"San Francisco", "America/Los_Angeles", "en-US"},
                                City{"Chicago", "America/Chicago", "en-US"},
                                City{"Toronto", "America/Toronto", "en-CA"},
                                City{"London", "Europe/London", "en-GB"},
                                City{"Paris", "Europe/Paris", "fr-FR"},
                                City{"Lyon", "Europe/Paris", "fr-FR"},
                                City{"Berlin", "Europe/Berlin", "de-DE"},
                                City{"Madrid", "Europe/Madrid", "es-ES"},
                                City{"Milan", "Europe/Rome", "it-IT"},
                                City{"Amsterdam", "Europe/Amsterdam", "nl-NL"},
                                City{"Warsaw", "Europe/Warsaw", "pl-PL"},
                                City{"São Paulo", "America/Sao_Paulo", "pt-BR"},
                                City{"Mexico City", "America/Mexico_City", "es-MX"},
                                City{"Tokyo", "Asia/Tokyo", "ja-JP"},
                                City{"Seoul", "Asia/Seoul", "ko-KR"},
                                City{"Singapore", "Asia/Singapore", "en-SG"},
                                City{"Sydney", "Australia/Sydney", "en-AU"},
                                City{"Montréal", "America/Toronto", "fr-CA"},
                                City{"Dublin", "Europe/Dublin", "en-IE"}};
constexpr std::array kDomains = {"example.com", "example.org", "example.net"};
constexpr std::array kInterests = {"running", "cooking", "travel", "books",  "music",
                                   "design",  "coffee",  "yoga",   "gaming", "photography"};

struct Product {
  const char* id;
  const char* name;
  const char* category;
  double price;
};
constexpr std::array kProducts = {Product{"p-101", "Trail Runner Shoes", "shoes", 129.0},
                                  Product{"p-102", "Merino Hoodie", "apparel", 89.0},
                                  Product{"p-103", "Pour-Over Kettle", "kitchen", 54.5},
                                  Product{"p-104", "Canvas Tote", "accessories", 24.0},
                                  Product{"p-105", "Yoga Mat Pro", "fitness", 68.0},
                                  Product{"p-106", "Noise-Cancelling Headphones", "audio", 249.0},
                                  Product{"p-107", "Field Notebook (3-pack)", "stationery", 14.5},
                                  Product{"p-108", "Insulated Bottle", "accessories", 32.0}};

// Uniform integers from the standard engine's raw output (std::uniform_int_distribution is
// not specified bit-for-bit across libraries; this is).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t Below(uint64_t n) { return engine_() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  template <typename A>
  const auto& Pick(const A& array) {
    return array[Below(array.size())];
  }

 private:
  std::mt19937_64 engine_;
};

std::string AsciiLower(std::string_view s) {
  // E-mail local parts from names: lower-case ASCII, accents dropped by a small table.
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(std::tolower(c)));
      continue;
    }
    std::string_view rest = s.substr(i, 2);
    if (rest == "é" || rest == "è")
      out.push_back('e');
    else if (rest == "ü")
      out.push_back('u');
    else if (rest == "ç")
      out.push_back('c');
    else if (rest == "ó")
      out.push_back('o');
    ++i;  // every accented letter above is two bytes
  }
  return out;
}

Result<std::vector<ContactId>> SeedContacts(Store& store, WorkspaceId ws, Rng& rng,
                                            std::vector<ContactInput>& inputs) {
  for (int i = 0; i < kContacts; ++i) {
    std::string first = rng.Pick(kFirstNames);
    std::string last = rng.Pick(kLastNames);
    const City& city = rng.Pick(kCities);
    ContactInput in;
    in.email = fmt::format("{}.{}{}@{}", AsciiLower(first), AsciiLower(last), i + 1, rng.Pick(kDomains));
    in.external_id = fmt::format("cus_{:05d}", i + 1);
    in.timezone = city.timezone;
    in.locale = city.locale;
    json::object a;
    a["first_name"] = first;
    a["last_name"] = last;
    a["city"] = city.name;
    uint64_t plan = rng.Below(100);
    a["plan"] = plan < 55 ? "free" : plan < 80 ? "starter" : plan < 95 ? "pro" : "business";
    a["lifetime_value"] = static_cast<double>(rng.Below(250000)) / 100.0;
    a["birthday"] =
        fmt::format("{}-{:02d}-{:02d}", 1955 + rng.Below(50), 1 + rng.Below(12), 1 + rng.Below(28));
    json::array interests;
    uint64_t n = 1 + rng.Below(3);
    for (uint64_t k = 0; k < n; ++k) {
      json::string item = rng.Pick(kInterests);
      if (std::find(interests.begin(), interests.end(), json::value(item)) == interests.end())
        interests.emplace_back(item);
    }
    a["interests"] = std::move(interests);
    a["newsletter_opt_in"] = rng.Chance(70);
    in.attributes = std::move(a);
    RAPPORT_TRY(ValidateContactInput(in));
    inputs.push_back(std::move(in));
  }
  std::vector<ContactId> ids(inputs.size(), 0);
  Status failure;
  RAPPORT_TRY(store.contacts().Import(ws, inputs, [&](size_t i, const Result<UpsertResult>& r) {
    if (r.ok())
      ids[i] = r->contact.id;
    else if (failure.ok())
      failure = r.error();
  }));
  RAPPORT_TRY(failure);
  return ids;
}

}  // namespace

Result<DemoResult> SeedDemoWorkspace(Store& store, Timestamp now, uint64_t seed) {
  DemoResult result;
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(store, "", /*create_default=*/true));
  result.workspace_id = ws.id;
  RAPPORT_ASSIGN_OR_RETURN(int64_t existing_contacts, store.contacts().Count(ws.id));
  if (existing_contacts > 0) return result;
  result.created = true;
  result.workspace_id = ws.id;
  Rng rng(seed);

  std::vector<ContactInput> inputs;
  RAPPORT_ASSIGN_OR_RETURN(std::vector<ContactId> ids, SeedContacts(store, ws.id, rng, inputs));
  result.contacts = static_cast<int>(ids.size());

  // Topics, and subscriptions with the consent that proves them.
  struct TopicSeed {
    const char* key;
    const char* name;
    const char* description;
    int percent;
  };
  constexpr std::array kTopics = {
      TopicSeed{"newsletter", "Weekly newsletter", "Stories, guides and new arrivals, every Thursday.", 70},
      TopicSeed{"product-updates", "Product updates", "What is new in the shop, once a month.", 45},
      TopicSeed{"promotions", "Offers and promotions", "Sales and member discounts.", 35}};
  for (const TopicSeed& t : kTopics) {
    Topic topic;
    topic.key = t.key;
    topic.name = t.name;
    topic.description = t.description;
    RAPPORT_TRY(store.topics().Create(ws.id, topic));
  }

  const int64_t day_us = int64_t{86400} * 1000000;
  const int64_t window_us = 90 * day_us;
  std::vector<NewEvent> events;
  auto add_event = [&](size_t contact, std::string name, json::object props, int64_t at_us) {
    NewEvent e;
    e.contact.email = inputs[contact].email;
    e.contact.create_contact = false;
    e.name = std::move(name);
    e.properties = std::move(props);
    e.occurred_at = FromMicros(std::min(at_us, ToMicros(now)));
    e.idempotency_key = fmt::format("demo-{}", events.size());
    events.push_back(std::move(e));
  };
  int order_number = 1000;
  // The weekly newsletter's past issues, as if imported from the workspace's earlier email tool:
  // their message events, opens (a person's, and Apple Mail Privacy Protection's prefetches) and
  // clicks, so reports, engagement segments and scores show something from the start. Their
  // message ids are negative: the outbox issues positive ids, and the analytics horizon
  // (analytics/report_book.cpp, forgotten_through) treats them as older than any real message.
  int64_t history_id = 0;
  auto newsletter_history = [&](size_t c, int64_t signup) {
    for (int week = 0; week < 8; ++week) {
      const int64_t sent = ToMicros(now) - (int64_t{7} * week + 3) * day_us + 10 * 3600 * int64_t{1000000};
      if (sent <= signup || sent >= ToMicros(now)) continue;
      json::object m{{"message_id", -(++history_id)},
                     {"template", "weekly-newsletter"},
                     {"class", "marketing"},
                     {"topic", "newsletter"}};
      add_event(c, "message.queued", json::object(m), sent - 60'000'000);
      add_event(c, "message.sent", json::object(m), sent);
      auto hit = [&](bool machine, const char* agent, const char* ip) {
        json::object h = m;
        h["user_agent"] = agent;
        h["ip"] = ip;
        h["method"] = "GET";
        h["machine"] = machine;
        if (machine) h["machine_reason"] = "apple_mpp";
        return h;
      };
      if (rng.Chance(15))
        add_event(c, "email_opened", hit(true, "Mozilla/5.0", "17.58.0.0"), sent + 40'000'000);
      if (!rng.Chance(35)) continue;
      const char* browser =
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)";
      const int64_t opened = sent + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(2 * day_us)));
      if (opened >= ToMicros(now)) continue;
      add_event(c, "email_opened", hit(false, browser, "203.0.113.0"), opened);
      if (!rng.Chance(30)) continue;
      json::object click = hit(false, browser, "203.0.113.0");
      click["link_index"] = 0;
      click["url"] = "https://shop.example/new";
      add_event(c, "email_clicked", std::move(click), opened + 120'000'000);
      if (!rng.Chance(25) || opened + day_us >= ToMicros(now)) continue;
      const Product& p = rng.Pick(kProducts);
      json::object order;
      order["order_id"] = fmt::format("ord_{}", ++order_number);
      order["total"] = p.price;
      order["currency"] = "USD";
      order["items"] = json::array{json::object{{"product_id", p.id}, {"quantity", 1}}};
      add_event(c, "order_placed", std::move(order), opened + day_us);
    }
  };
  for (size_t c = 0; c < ids.size(); ++c) {
    int64_t signup =
        ToMicros(now) - window_us + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(window_us)));
    json::object props;
    props["source"] = rng.Pick(std::array{"organic", "referral", "ads", "social"});
    add_event(c, "signed_up", std::move(props), signup);

    for (const TopicSeed& t : kTopics) {
      if (!rng.Chance(t.percent)) continue;
      Consent consent;
      consent.source = rng.Chance(80) ? "form:signup" : "import";
      consent.at = FromMicros(signup);
      consent.ip = fmt::format("203.0.113.{}", 1 + rng.Below(254));
      consent.user_agent = "Mozilla/5.0 (demo)";
      consent.text_version = "v1";
      auto status = rng.Chance(90) ? SubscriptionStatus::kSubscribed : SubscriptionStatus::kUnsubscribed;
      RAPPORT_TRY(store.topics().SetSubscription(ws.id, ids[c], t.key, status, consent));
      if (status == SubscriptionStatus::kSubscribed && std::string_view(t.key) == "newsletter")
        newsletter_history(c, signup);
    }

    int64_t t = signup;
    int64_t remaining = ToMicros(now) - signup;
    uint64_t sessions = rng.Below(6);
    for (uint64_t s = 0; s < sessions && remaining > 0; ++s) {
      t += static_cast<int64_t>(rng.Below(static_cast<uint64_t>(std::max<int64_t>(remaining / 3, 1))));
      if (t >= ToMicros(now)) break;
      json::object page;
      page["path"] = rng.Pick(std::array{"/", "/new", "/sale", "/journal", "/about"});
      add_event(c, "page_viewed", std::move(page), t);
      const Product& p = rng.Pick(kProducts);
      json::object view;
      view["product_id"] = p.id;
      view["name"] = p.name;
      view["category"] = p.category;
      view["price"] = p.price;
      add_event(c, "viewed_product", json::object(view), t + 60'000'000);
      if (!rng.Chance(45)) continue;
      json::object cart = view;
      cart["quantity"] = 1 + rng.Below(2);
      add_event(c, "added_to_cart", json::object(cart), t + 180'000'000);
      if (!rng.Chance(60)) continue;  // an abandoned cart
      add_event(c, "checkout_started", json::object{{"cart_value", p.price}}, t + 300'000'000);
      double amount = p.price * cart["quantity"].to_number<double>();
      json::object order;
      order["order_id"] = fmt::format("ord_{}", ++order_number);
      order["total"] = amount;  // the analytics' default revenue property
      order["currency"] = "USD";
      order["items"] = json::array{json::object{{"product_id", p.id}, {"quantity", cart["quantity"]}}};
      add_event(c, "order_placed", std::move(order), t + 420'000'000);
      remaining = ToMicros(now) - t;
    }
    if (rng.Chance(10))
      add_event(c, "password_reset_requested", {},
                ToMicros(now) - static_cast<int64_t>(rng.Below(static_cast<uint64_t>(day_us * 7))));
  }
  for (size_t begin = 0; begin < events.size(); begin += 1000) {
    std::vector<NewEvent> batch(
        events.begin() + static_cast<std::ptrdiff_t>(begin),
        events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), begin + 1000)));
    RAPPORT_ASSIGN_OR_RETURN(std::vector<AppendResult> appended, store.events().Append(ws.id, batch, now));
    for (const AppendResult& r : appended) {
      if (r.outcome == AppendOutcome::kFailed) return r.error;
      if (r.outcome == AppendOutcome::kAccepted) result.events++;
    }
  }

  // Saved segments over that history (docs/segments.md); the segment service counts them at start
  // and writes their members' segment_entered events.
  struct SegmentSeed {
    const char* name;
    const char* description;
    const char* expression;
  };
  constexpr std::array kSegments = {
      SegmentSeed{"engaged-readers", "Opened a newsletter in the last 30 days (people, not proxies)",
                  "opened any message in the last 30 days"},
      SegmentSeed{"never-opened", "Received mail but never opened any",
                  "received any message and never opened"},
      SegmentSeed{"big-spenders", "Spent more than 150 in all", "sum(total) of order_placed > 150"},
      SegmentSeed{"cart-abandoners", "Added to cart in the last 30 days without ordering since",
                  "any added_to_cart in the last 30 days and no order_placed in the last 30 days"},
  };
  for (const SegmentSeed& seed : kSegments) {
    SavedSegment segment;
    segment.workspace_id = ws.id;
    segment.name = seed.name;
    segment.description = seed.description;
    segment.expression = seed.expression;
    RAPPORT_TRY(store.segments().Create(segment));
  }

  // Templates to send right away (POST /api/v1/messages {"template":"order-confirmation",...}).
  MessageTemplate order;
  order.workspace_id = ws.id;
  order.name = "order-confirmation";
  order.subject = "Your order {{ data.order_id | default: 'is confirmed' }}";
  order.preheader = "Thank you, {{ contact.first_name | default: 'friend' }}. Here is what you ordered.";
  order.html =
      "<h1>Thank you, {{ contact.first_name | default: 'friend' }}!</h1>\n"
      "<p>We received order <strong>{{ data.order_id }}</strong> and will send it within two days.</p>\n"
      "{% if data.items %}<table>{% for item in data.items %}<tr><td>{{ item.name }}</td>"
      "<td>{{ item.quantity }}</td><td>{{ item.price | money: 'USD' }}</td></tr>{% endfor %}</table>{% endif "
      "%}\n"
      "<p>Total: {{ data.amount | default: 0 | money: 'USD' }}</p>\n";
  RAPPORT_TRY(store.templates().Create(order));
  MessageTemplate welcome;
  welcome.workspace_id = ws.id;
  welcome.name = "welcome";
  welcome.subject = "Welcome to the shop, {{ contact.first_name | default: 'friend' }}";
  welcome.html =
      "<h1>Hi {{ contact.first_name | default: 'there' }},</h1>\n"
      "<p>Thanks for joining us{% if contact.city %} from {{ contact.city }}{% endif %}. "
      "Every Thursday we write about new arrivals and how to brew them well.</p>\n"
      "<p><a href=\"https://shop.example/new-arrivals?utm_source=rapport\">See this week's new "
      "arrivals</a> or <a href=\"https://shop.example/guides/brewing\">read the brewing "
      "guide</a>.</p>\n"
      "<p><a href=\"{{ preferences_url }}\">Email preferences</a> · "
      "<a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>\n"
      "<p>{{ sender.name }} · {{ sender.postal_address }}</p>\n";
  RAPPORT_TRY(store.templates().Create(welcome));
  // Who the demo's mail is from (docs/senders.md): the newsletter's sender is the default; the
  // order confirmations name theirs ("from": "orders@shop.example"). `serve --demo` makes a DKIM
  // key for the domain (senders_command.h, AddDemoDkimKey), so marketing mail may go out.
  const std::string domain(kDemoSenderDomain);
  const std::string postal = "Northwind Tea & Coffee, 12 Harbour Street, Portland, ME 04101, USA";
  SenderIdentity news;
  news.workspace_id = ws.id;
  news.name = "Northwind Tea & Coffee";
  news.email = "news@" + domain;
  news.reply_to_email = "hello@" + domain;
  news.reply_to_name = "Northwind Customer Care";
  news.postal_address = postal;
  news.is_default = true;
  RAPPORT_TRY(store.senders().Create(news));
  SenderIdentity orders;
  orders.workspace_id = ws.id;
  orders.name = "Northwind Orders";
  orders.email = "orders@" + domain;
  orders.postal_address = postal;
  RAPPORT_TRY(store.senders().Create(orders));
  // The double opt-in confirmation mail (English and French), as POST /api/v1/subscribe sends it.
  RAPPORT_TRY(store.templates().Create(send::DefaultConfirmationTemplate(ws.id, "confirm-subscription")));

  // A 5% global holdout (docs/governor.md): those contacts get no marketing mail at all, and
  // GET /api/v1/reports/holdout measures the whole programme against them. The caps stay off.
  campaign::GovernorPolicy policy = campaign::DefaultPolicy();
  policy.global_holdout = 0.05;
  RAPPORT_TRY(store.governor().SetPolicy(ws.id, json::serialize(campaign::PolicyToJson(policy))));

  // The weekly newsletter campaign (docs/campaigns.md): every Thursday at 10:00 in each contact's
  // own timezone, to the newsletter's subscribers, with an A/B subject test on 20% of them (the
  // winner by human clicks after 4 hours goes to the rest) and a 5% holdout for the lift.
  MessageTemplate newsletter;
  newsletter.workspace_id = ws.id;
  newsletter.name = "weekly-newsletter";
  newsletter.subject = "This week at the shop";
  newsletter.preheader = "New arrivals and a brewing guide";
  newsletter.html =
      "<h1>Hi {{ contact.first_name | default: 'there' }},</h1>\n"
      "<p>Three new single-origin coffees arrived this week.</p>\n"
      "<p><a href=\"https://shop.example/new-arrivals?utm_source=newsletter\">See the new arrivals</a> or "
      "<a href=\"https://shop.example/guides/pour-over\">read the pour-over guide</a>.</p>\n"
      "<p><a href=\"{{ preferences_url }}\">Email preferences</a> · "
      "<a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>\n";
  RAPPORT_TRY(store.templates().Create(newsletter));
  {
    date::sys_days today = std::chrono::floor<date::days>(now);
    int ahead = (4 - static_cast<int>(date::weekday(today).c_encoding()) + 7) % 7;  // the next Thursday
    date::sys_days thursday = today + date::days(ahead == 0 ? 7 : ahead);
    json::object doc{
        {"template", "weekly-newsletter"},
        {"topic", "newsletter"},
        {"archive", true},
        {"audience", json::object{{"include_topics", json::array{"newsletter"}}}},
        {"variants",
         json::array{json::object{{"name", "A"}}, json::object{{"name", "B"},
                                                               {"subject",
                                                                "{{ contact.first_name | default: 'Hi' }}, "
                                                                "three new coffees are in"}}}},
        {"experiment", json::object{{"test_share", 0.2}, {"metric", "clicks"}, {"wait_minutes", 240}}},
        {"holdout_share", 0.05},
        {"schedule", json::object{{"type", "recurring"},
                                  {"rrule", "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"},
                                  {"dtstart", date::format("%Y-%m-%dT10:00", thursday)},
                                  {"timezone", "UTC"},
                                  {"local", true}}}};
    RAPPORT_ASSIGN_OR_RETURN(campaign::CampaignDef def, campaign::ParseCampaign(doc));
    Campaign weekly;
    weekly.workspace_id = ws.id;
    weekly.name = "weekly-newsletter";
    weekly.state = CampaignState::kScheduled;
    weekly.definition = json::serialize(campaign::CampaignToJson(def));
    weekly.archive = def.archive;
    RAPPORT_ASSIGN_OR_RETURN(Campaign created, store.campaigns().Create(weekly));
    WorkItem tick;
    tick.workspace_id = ws.id;
    tick.queue = std::string(kCampaignQueue);
    tick.key = fmt::format("campaign:{}", created.id);
    tick.payload = fmt::format(R"({{"campaign_id":{}}})", created.id);
    tick.due_at = now;
    RAPPORT_TRY(store.work().Schedule(tick));
  }

  std::string secret = http::GenerateApiKey();
  ApiKey key;
  key.workspace_id = ws.id;
  key.name = "demo admin";
  key.prefix = secret.substr(0, http::kApiKeyShownPrefix);
  key.hash = http::HashApiKey(secret);
  key.scopes = kScopeAdmin;
  key.created_at = now;
  RAPPORT_ASSIGN_OR_RETURN(ApiKey created, store.keys().Create(key));
  AuditEntry audit;
  audit.workspace_id = ws.id;
  audit.actor = "cli";
  audit.action = "key.create";
  audit.entity = "key";
  audit.entity_id = std::to_string(created.id);
  audit.details["name"] = created.name;
  audit.details["scopes"] = FormatScopes(created.scopes);
  audit.details["reason"] = "demo workspace";
  audit.at = now;
  RAPPORT_TRY(store.audit().Record(audit));
  result.admin_key = std::move(secret);
  return result;
}

Result<int> QueueDemoWelcome(Store& store, send::SendService& sender, WorkspaceId ws, int count) {
  int queued = 0;
  ContactQuery q;
  q.limit = 100;
  RAPPORT_ASSIGN_OR_RETURN(Page<Contact> page, store.contacts().List(ws, q));
  for (const Contact& c : page.items) {
    if (queued >= count) break;
    send::SendRequest r;
    r.template_name = "welcome";
    r.contact_id = c.id;
    r.message_class = MessageClass::kMarketing;
    r.topic = "newsletter";
    r.idempotency_key = "demo-welcome-" + std::to_string(c.id);
    Result<send::SendOutcome> sent = sender.Send(ws, std::move(r));
    if (sent.ok()) {
      ++queued;
    } else if (sent.error().code != ErrorCode::kSuppressed) {
      return sent.error();  // anything but "not subscribed" is a real failure
    }
  }
  return queued;
}

}  // namespace rapport::app
