// Issue 17, the CLV model at scale: the refit ran inside ReportBook::Contact() on whatever thread
// asked (the analytics consumer publishing a clv_changed, under the service's lock), its time
// linear in the customers (2.5 s at 20,000, so ~25 s at 200,000, once an hour). Now the fit uses
// a stable sample of at most ClvOptions::max_fit_customers, and the service fits off the
// consumer's thread: the sample under the lock, the fit without it, the install under it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "analytics/analytics_service.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::analytics {
namespace {

int64_t T(const char* iso) { return ToMicros(*ParseTimestamp(iso)); }

struct Order {
  int64_t at = 0;
  size_t customer = 0;  // 0-based
  double total = 0;
};

// The orders of `n` customers drawn from known parameters (those of clv_model_test.cpp), each
// one's observation ending at `now_us`, in time order.
std::vector<Order> DrawOrders(int n, int64_t now_us, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto sim = Simulate(BgNbdParams{0.5, 10.0, 0.7, 2.5}, GammaGammaParams{6.0, 4.0, 15.0}, n, 180, 360, rng);
  const auto day = static_cast<double>(kMicrosPerDay);
  std::vector<Order> orders;
  for (size_t i = 0; i < sim.size(); ++i) {
    const int64_t first = now_us - static_cast<int64_t>(sim[i].T * day);
    orders.push_back({first, i, std::round(sim[i].spends[0] * 100) / 100});
    for (size_t k = 0; k < sim[i].times.size(); ++k)
      orders.push_back({first + static_cast<int64_t>(sim[i].times[k] * day), i,
                        std::round(sim[i].spends[k + 1] * 100) / 100});
  }
  std::stable_sort(orders.begin(), orders.end(), [](const Order& a, const Order& b) { return a.at < b.at; });
  return orders;
}

ReportBook Book(const AnalyticsOptions& o) {
  return ReportBook(o, [](WorkspaceId) { return std::string("UTC"); });
}

// Folds the orders into workspace `ws`, customer i being contact first_contact + i.
void Fold(ReportBook& book, const std::vector<Order>& orders, WorkspaceId ws, ContactId first_contact) {
  EventId id = 1;
  for (const Order& o : orders) {
    Event e;
    e.id = e.position = id++;
    e.workspace_id = ws;
    e.contact_id = first_contact + static_cast<ContactId>(o.customer);
    e.name = "order_placed";
    e.properties = json::object{{"total", o.total}};
    e.occurred_at = e.received_at = FromMicros(o.at);
    book.Apply(e, o.at);
  }
}

void ExpectSameModel(const ClvModel& a, const ClvModel& b) {
  EXPECT_EQ(a.fitted, b.fitted);
  EXPECT_EQ(a.customers, b.customers);
  EXPECT_EQ(a.bgnbd.r, b.bgnbd.r);
  EXPECT_EQ(a.bgnbd.alpha, b.bgnbd.alpha);
  EXPECT_EQ(a.bgnbd.a, b.bgnbd.a);
  EXPECT_EQ(a.bgnbd.b, b.bgnbd.b);
  EXPECT_EQ(a.gg.p, b.gg.p);
  EXPECT_EQ(a.gg.q, b.gg.q);
  EXPECT_EQ(a.gg.gamma, b.gg.gamma);
}

TEST(Issue17ClvSample, TheSampleIsCappedAndStableAndGivesTheSameModelTwice) {
  const int64_t now = T("2026-12-01T00:00:00Z");
  const std::vector<Order> orders = DrawOrders(1500, now, 7);
  AnalyticsOptions o;
  o.clv.max_fit_customers = 1000;
  // The same customers folded in two orders: in time order, and one customer after another, the
  // last one first (as a restart loads states in any order).
  ReportBook a = Book(o), b = Book(o);
  Fold(a, orders, 1, 1);
  std::vector<Order> by_customer = orders;
  std::stable_sort(by_customer.begin(), by_customer.end(),
                   [](const Order& x, const Order& y) { return x.customer > y.customer; });
  Fold(b, by_customer, 1, 1);
  ASSERT_EQ(a.Customers(1), 1500);
  ASSERT_EQ(b.Customers(1), 1500);

  // More customers than the cap: exactly the cap, the same ones in the same order.
  std::vector<CustomerSummary> sa = a.CustomerSample(1, now), sb = b.CustomerSample(1, now);
  ASSERT_EQ(sa.size(), 1000u);
  ASSERT_EQ(sb.size(), 1000u);
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].x, sb[i].x) << i;
    EXPECT_EQ(sa[i].t_x, sb[i].t_x) << i;
    EXPECT_EQ(sa[i].T, sb[i].T) << i;
    EXPECT_EQ(sa[i].m, sb[i].m) << i;
  }
  // The same model twice, and from either book.
  const ClvModel first = a.FitModel(1, now);
  ASSERT_TRUE(first.fitted) << first.reason;
  EXPECT_EQ(first.customers, 1000);
  ExpectSameModel(a.FitModel(1, now), first);
  ExpectSameModel(b.FitModel(1, now), first);

  // Fewer customers than the cap: all of them.
  AnalyticsOptions wide;
  wide.clv.max_fit_customers = 5000;
  ReportBook c = Book(wide);
  Fold(c, orders, 1, 1);
  EXPECT_EQ(c.CustomerSample(1, now).size(), 1500u);
}

TEST(Issue17ClvSample, ContactNeverFitsALargeWorkspaceAndKeepsAStaleModel) {
  const int64_t now = T("2026-12-01T00:00:00Z");
  AnalyticsOptions o;
  o.clv.max_fit_customers = 1000;  // small: fewer than 100 customers
  int fits = 0;
  o.before_fit = [&fits](WorkspaceId) { ++fits; };
  ReportBook book = Book(o);
  Fold(book, DrawOrders(1500, now, 7), 1, 1);

  // No model yet and 1,500 customers: the fallback, saying why; nothing fitted.
  ContactView v = book.Contact(1, 1, now);
  ASSERT_TRUE(v.known);
  EXPECT_EQ(fits, 0);
  EXPECT_FALSE(v.model_fitted);
  EXPECT_TRUE(v.predicted.fallback);
  EXPECT_NE(v.model_reason.find("not fitted yet"), std::string::npos) << v.model_reason;
  EXPECT_EQ(v.model_fitted_at_us, 0);
  EXPECT_EQ(book.ModelsDue(now), std::vector<WorkspaceId>{1});

  // The owner's three steps: the model installed is the one Contact() predicts with.
  book.InstallModel(1, FitClv(book.CustomerSample(1, now), book.options().clv), now);
  EXPECT_TRUE(book.ModelsDue(now).empty());
  v = book.Contact(1, 1, now);
  ASSERT_TRUE(v.model_fitted) << v.model_reason;
  EXPECT_FALSE(v.predicted.fallback);
  EXPECT_EQ(v.model_fitted_at_us, now);

  // An hour later it is due, and Contact() still predicts with it, fitting nothing.
  const int64_t later = now + kClvModelMaxAgeUs;
  EXPECT_TRUE(book.ModelsDue(later - 1).empty());
  EXPECT_EQ(book.ModelsDue(later), std::vector<WorkspaceId>{1});
  v = book.Contact(1, 1, later);
  EXPECT_TRUE(v.model_fitted);
  EXPECT_EQ(v.model_fitted_at_us, now);
  EXPECT_EQ(fits, 0);

  // A small workspace (3 customers) is fitted inside Contact(), once: the fallback for too few.
  Fold(book, DrawOrders(3, now, 8), 2, 100'001);
  v = book.Contact(2, 100'001, now);
  EXPECT_EQ(fits, 1);
  EXPECT_FALSE(v.model_fitted);
  EXPECT_NE(v.model_reason.find("too few customers"), std::string::npos) << v.model_reason;
  v = book.Contact(2, 100'002, later + kClvModelMaxAgeUs);
  EXPECT_EQ(fits, 1);
  EXPECT_EQ(book.ModelsDue(later + kClvModelMaxAgeUs), (std::vector<WorkspaceId>{1, 2}));
}

// The service over a real SQLite store: 250 customers and their orders, fitted on a sample of 200.
class Issue17ClvRefit : public ::testing::Test {
 protected:
  static constexpr int kCustomers = 250;

  FakeClock clock_{*ParseTimestamp("2026-12-01T00:00:00Z")};
  TempSqliteStore db_{clock_, "shop"};
  std::vector<ContactId> contacts_;
  std::mutex mu_;
  std::vector<std::thread::id> fit_threads_;  // guarded by mu_: the thread of each fit, in order

  void SetUp() override {
    std::vector<ContactInput> inputs(kCustomers);
    for (int i = 0; i < kCustomers; ++i)
      inputs[static_cast<size_t>(i)].email = "c" + std::to_string(i) + "@example.com";
    contacts_.assign(kCustomers, 0);
    ASSERT_TRUE(db_.store->contacts()
                    .Import(db_.workspace, inputs,
                            [&](size_t i, const Result<UpsertResult>& r) {
                              if (r.ok()) contacts_[i] = r->contact.id;
                            })
                    .ok());
    for (ContactId id : contacts_) ASSERT_NE(id, 0);
    std::vector<NewEvent> events;
    for (const Order& o : DrawOrders(kCustomers, ToMicros(clock_.Now()), 11))
      events.push_back(OrderEvent(contacts_[o.customer], o.at, o.total));
    auto r = db_.store->events().Append(db_.workspace, events, clock_.Now());
    ASSERT_TRUE(r.ok());
  }

  static NewEvent OrderEvent(ContactId contact, int64_t at_us, double total) {
    NewEvent e;
    e.contact.id = contact;
    e.name = "order_placed";
    e.properties = json::object{{"total", total}};
    e.occurred_at = FromMicros(at_us);
    return e;
  }
  void AppendOrder(size_t customer, int64_t at_us, double total) {
    auto r = db_.store->events().Append(db_.workspace, {OrderEvent(contacts_[customer], at_us, total)},
                                        clock_.Now());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ((*r)[0].outcome, AppendOutcome::kAccepted);
  }
  AnalyticsOptions Options(bool background) {
    AnalyticsOptions o;
    o.fit_in_background = background;
    o.clv.max_fit_customers = 200;  // 250 customers: a capped sample, and not small (200 / 10)
    o.clv.min_customers = 100;
    o.before_fit = [this](WorkspaceId) {
      std::lock_guard lock(mu_);
      fit_threads_.push_back(std::this_thread::get_id());
    };
    return o;
  }
  std::vector<std::thread::id> FitThreads() {
    std::lock_guard lock(mu_);
    return fit_threads_;
  }
  // The properties of the contact's clv_changed events that occurred at `at_us`.
  std::vector<json::object> ClvChanges(ContactId contact, std::optional<int64_t> at_us = std::nullopt) {
    EventQuery q;
    q.limit = 1000;
    auto timeline = db_.store->events().ListForContact(db_.workspace, contact, q);
    EXPECT_TRUE(timeline.ok());
    std::vector<json::object> out;
    if (!timeline.ok()) return out;
    for (const Event& e : timeline->items)
      if (e.name == kClvChanged && (!at_us || ToMicros(e.occurred_at) == *at_us)) out.push_back(e.properties);
    return out;
  }
};

TEST_F(Issue17ClvRefit, AStaleModelIsRefittedOffTheConsumersThreadAndPublishedOnceInstalled) {
  const std::thread::id consumer = std::this_thread::get_id();  // Step() runs the consumer's pass here
  const int64_t t0 = ToMicros(clock_.Now());
  AnalyticsService svc(*db_.store, clock_, Options(true));
  ASSERT_TRUE(svc.Start(false).ok());
  // The first pass published every order's CLV with the fallback (no model yet, and 250
  // customers are too many to fit inline), then started the fit on a thread of its own.
  std::vector<json::object> published = ClvChanges(contacts_[0]);
  ASSERT_FALSE(published.empty());
  for (const json::object& p : published) EXPECT_TRUE(p.at("fallback").as_bool());
  svc.WaitForFits();
  std::vector<std::thread::id> fits = FitThreads();
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_NE(fits[0], consumer);
  auto view = svc.Contact(db_.workspace, contacts_[0]);
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(view->model_fitted) << view->model_reason;
  EXPECT_EQ(view->model_fitted_at_us, t0);

  // A new order: published with the installed model; a fresh model is not fitted again.
  AppendOrder(0, t0, 25);
  ASSERT_TRUE(svc.Step().ok());
  published = ClvChanges(contacts_[0], t0);
  ASSERT_EQ(published.size(), 1u);
  EXPECT_FALSE(published[0].at("fallback").as_bool());
  view = svc.Contact(db_.workspace, contacts_[0]);
  ASSERT_TRUE(view.ok());
  EXPECT_NEAR(published[0].at("predicted_clv").to_number<double>(), view->predicted.value, 0.006);
  EXPECT_EQ(FitThreads().size(), 1u);

  // Two hours later the model is stale: the pass publishes with it and returns without fitting
  // on its thread; the refit runs on the fit thread and is installed.
  clock_.Advance(std::chrono::hours(2));
  const int64_t t1 = ToMicros(clock_.Now());
  AppendOrder(1, t1, 40);
  ASSERT_TRUE(svc.Step().ok());
  published = ClvChanges(contacts_[1], t1);
  ASSERT_EQ(published.size(), 1u);
  EXPECT_FALSE(published[0].at("fallback").as_bool());
  svc.WaitForFits();
  fits = FitThreads();
  ASSERT_EQ(fits.size(), 2u);
  for (const std::thread::id& id : fits) EXPECT_NE(id, consumer);

  // The next order is published with the refitted model (its sample taken at t1).
  AppendOrder(2, t1, 60);
  ASSERT_TRUE(svc.Step().ok());
  published = ClvChanges(contacts_[2], t1);
  ASSERT_EQ(published.size(), 1u);
  view = svc.Contact(db_.workspace, contacts_[2]);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->model_fitted_at_us, t1);
  EXPECT_FALSE(published[0].at("fallback").as_bool());
  EXPECT_NEAR(published[0].at("predicted_clv").to_number<double>(), view->predicted.value, 0.006);
  EXPECT_EQ(FitThreads().size(), 2u);

  // GET of the model fits on the caller's thread (an explicit request), on the capped sample.
  auto model = svc.Model(db_.workspace);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->customers, 200);
  fits = FitThreads();
  ASSERT_EQ(fits.size(), 3u);
  EXPECT_EQ(fits[2], consumer);
}

TEST_F(Issue17ClvRefit, WithoutBackgroundFitsRefitNowFitsWhatIsDue) {
  const int64_t t0 = ToMicros(clock_.Now());
  AnalyticsService svc(*db_.store, clock_, Options(false));
  ASSERT_TRUE(svc.Start(false).ok());
  EXPECT_TRUE(FitThreads().empty());
  auto view = svc.Contact(db_.workspace, contacts_[0]);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->model_fitted);
  EXPECT_TRUE(view->predicted.fallback);
  EXPECT_NE(view->model_reason.find("not fitted yet"), std::string::npos) << view->model_reason;

  auto fitted = svc.RefitNow();
  ASSERT_TRUE(fitted.ok());
  EXPECT_EQ(*fitted, 1u);
  std::vector<std::thread::id> fits = FitThreads();
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_EQ(fits[0], std::this_thread::get_id());
  view = svc.Contact(db_.workspace, contacts_[0]);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->model_fitted) << view->model_reason;
  EXPECT_EQ(view->model_fitted_at_us, t0);
  // Nothing is due within the hour; after it, the model is, and Step() alone fits nothing.
  fitted = svc.RefitNow();
  ASSERT_TRUE(fitted.ok());
  EXPECT_EQ(*fitted, 0u);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(svc.Step().ok());
  EXPECT_EQ(FitThreads().size(), 1u);
  fitted = svc.RefitNow();
  ASSERT_TRUE(fitted.ok());
  EXPECT_EQ(*fitted, 1u);
  EXPECT_EQ(FitThreads().size(), 2u);
}

}  // namespace
}  // namespace rapport::analytics
