// The store contract, continued: the campaigns facet (core/campaign.h) on SQLite and PostgreSQL:
// names and states, an occurrence frozen once per (campaign, seq) with its recipients, due
// recipients by time and arm, marks that change only pending recipients, and report paging.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

class Campaigns : public StoreContract {
 protected:
  Campaign Make(const std::string& name) {
    Campaign c;
    c.workspace_id = ws_;
    c.name = name;
    c.definition = R"({"template":"news"})";
    auto r = store_->campaigns().Create(c);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
  }
  static CampaignRecipient Recipient(ContactId c, RecipientArm arm, int variant, Timestamp due,
                                     RecipientStatus st = RecipientStatus::kPending) {
    CampaignRecipient r;
    r.contact_id = c;
    r.arm = arm;
    r.variant = variant;
    r.due_at = due;
    r.status = st;
    return r;
  }
};

TEST_P(Campaigns, NamesStatesAndArchive) {
  CampaignStore& cs = store_->campaigns();
  Campaign c = Make("weekly");
  EXPECT_EQ(c.state, CampaignState::kDraft);
  EXPECT_EQ(cs.Create(c).error().code, ErrorCode::kConflict);
  EXPECT_EQ(cs.GetByName(ws_, "weekly")->id, c.id);
  EXPECT_EQ(cs.Get(ws_ + 1, c.id).error().code, ErrorCode::kNotFound);
  Campaign bad = c;
  bad.name = "Not A Slug";
  EXPECT_EQ(cs.Update(bad).error().code, ErrorCode::kInvalid);
  c.definition = R"({"template":"other"})";
  c.archive = true;
  auto u = cs.Update(c);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->definition, R"({"template":"other"})");
  EXPECT_TRUE(u->archive);
  Make("second");
  EXPECT_EQ(cs.List(ws_)->size(), 2u);
  EXPECT_EQ(cs.List(ws_)->front().name, "second");  // newest first
  ASSERT_EQ(cs.ListArchived(ws_)->size(), 1u);
  auto s = cs.SetState(ws_, c.id, CampaignState::kScheduled, {CampaignState::kDraft});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, CampaignState::kScheduled);
  auto refused = cs.SetState(ws_, c.id, CampaignState::kRunning, {CampaignState::kDraft});
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(cs.Get(ws_, c.id)->state, CampaignState::kScheduled);
}

TEST_P(Campaigns, FreezeOnceDueMarkAndPage) {
  CampaignStore& cs = store_->campaigns();
  Campaign c = Make("weekly");
  std::vector<CampaignRecipient> rs;
  for (int i = 1; i <= 450; ++i) {
    RecipientArm arm =
        i % 10 == 0 ? RecipientArm::kHoldout : (i % 2 ? RecipientArm::kTest : RecipientArm::kRest);
    rs.push_back(
        Recipient(i, arm, arm == RecipientArm::kTest ? i % 3 : -1, kT0 + std::chrono::minutes(i % 5),
                  arm == RecipientArm::kHoldout ? RecipientStatus::kHeld : RecipientStatus::kPending));
  }
  CampaignOccurrence o;
  o.workspace_id = ws_;
  o.campaign_id = c.id;
  o.seq = 1;
  o.scheduled_at = kT0;
  o.started_at = kT0;
  auto frozen = cs.Freeze(o, rs);
  ASSERT_TRUE(frozen.ok()) << frozen.error().message;
  EXPECT_EQ(frozen->recipients, 450);
  // A second freeze of the same occurrence writes nothing and returns the first.
  auto again = cs.Freeze(o, {Recipient(999, RecipientArm::kTest, 0, kT0)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, frozen->id);
  EXPECT_EQ(again->recipients, 450);

  auto due = cs.Due(frozen->id, kT0, /*include_rest=*/false, 10000);
  ASSERT_TRUE(due.ok()) << due.error().message;
  for (const auto& r : *due) {
    EXPECT_EQ(r.arm, RecipientArm::kTest);
    EXPECT_EQ(r.due_at, kT0);
  }
  EXPECT_EQ(due->size(), 45u);  // odd ids that are 0 mod 5
  auto with_rest = cs.Due(frozen->id, kT0 + 10min, true, 10000);
  EXPECT_EQ(with_rest->size(), 405u);
  EXPECT_EQ(*cs.NextDue(frozen->id, false), kT0);

  // Reschedule moves pending recipients only (and back, for the marks below).
  ASSERT_TRUE(cs.Reschedule(frozen->id, {{2, kT0 + 3h}, {4, kT0 + 2h}}).ok());
  auto moved = cs.Due(frozen->id, kT0 + 10min, true, 10000);
  EXPECT_EQ(moved->size(), 403u);
  EXPECT_EQ(cs.Due(frozen->id, kT0 + 3h, true, 10000)->size(), 405u);
  ASSERT_TRUE(cs.Reschedule(frozen->id, {{2, kT0}, {4, kT0}}).ok());

  std::vector<RecipientOutcome> marks;
  for (const auto& r : *with_rest)
    marks.push_back({r.contact_id, RecipientStatus::kQueued, 1, r.contact_id * 10, ""});
  ASSERT_TRUE(cs.Mark(frozen->id, marks).ok());
  // Marks change pending recipients only: a second mark keeps the first.
  ASSERT_TRUE(cs.Mark(frozen->id, {{1, RecipientStatus::kSkipped, 2, 0, "suppressed"}}).ok());
  EXPECT_TRUE(cs.Due(frozen->id, kT0 + 10min, true, 100)->empty());
  EXPECT_FALSE(cs.NextDue(frozen->id, true)->has_value());
  ASSERT_TRUE(cs.Reschedule(frozen->id, {{2, kT0 + 5h}}).ok());  // no longer pending: unchanged
  EXPECT_FALSE(cs.NextDue(frozen->id, true)->has_value());

  std::vector<CampaignRecipient> all;
  ContactId after = 0;
  for (;;) {
    auto page = cs.Recipients(frozen->id, after, 100);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    after = page->back().contact_id;
    all.insert(all.end(), page->begin(), page->end());
  }
  ASSERT_EQ(all.size(), 450u);
  EXPECT_EQ(all[0].status, RecipientStatus::kQueued);
  EXPECT_EQ(all[0].message_id, 10);
  EXPECT_EQ(all[9].status, RecipientStatus::kHeld);

  CampaignOccurrence done = *frozen;
  done.state = OccurrenceState::kDone;
  done.send_variant = 2;
  done.decision = R"({"winner":2})";
  done.finished_at = kT0 + 1h;
  ASSERT_TRUE(cs.UpdateOccurrence(done).ok());
  auto list = cs.ListOccurrences(ws_, c.id);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).state, OccurrenceState::kDone);
  EXPECT_EQ(list->at(0).send_variant, 2);
  EXPECT_EQ(list->at(0).finished_at, kT0 + 1h);
  EXPECT_EQ(cs.GetOccurrence(ws_ + 1, frozen->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(cs.Due(frozen->id, kT0, true, 0).error().code, ErrorCode::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(Backends, Campaigns, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
