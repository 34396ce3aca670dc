// The store contract, continued: the senders facet (core/sender.h) on SQLite and PostgreSQL:
// validation, one From address per workspace whatever its case, one default per workspace,
// workspaces kept apart.
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;

class Senders : public StoreContract {
 protected:
  SenderIdentity Input(std::string email, bool is_default = false) {
    SenderIdentity s;
    s.workspace_id = ws_;
    s.name = "Northwind Outfitters";
    s.email = std::move(email);
    s.postal_address = "Northwind Outfitters, 12 Harbour St, Portland, ME 04101, USA";
    s.is_default = is_default;
    return s;
  }
  SenderIdentity Make(std::string email, bool is_default = false) {
    auto r = store_->senders().Create(Input(std::move(email), is_default));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : SenderIdentity{};
  }
  std::vector<SenderId> Defaults() {
    std::vector<SenderId> out;
    auto all = store_->senders().List(ws_);
    EXPECT_TRUE(all.ok());
    for (const SenderIdentity& s : *all)
      if (s.is_default) out.push_back(s.id);
    return out;
  }
};

TEST_P(Senders, CreateNormalizesAndReadsBack) {
  SenderIdentity in = Input("news@Northwind.Example");
  in.reply_to_email = "help@northwind.example";
  in.reply_to_name = "Northwind Help";
  auto created = store_->senders().Create(in);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->email, "news@northwind.example");  // the domain lower-cased
  EXPECT_EQ(created->Domain(), "northwind.example");
  EXPECT_TRUE(created->is_default);  // the workspace's first sender
  EXPECT_EQ(created->created_at, kT0);
  auto got = store_->senders().Get(ws_, created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Northwind Outfitters");
  EXPECT_EQ(got->reply_to_email, "help@northwind.example");
  EXPECT_EQ(got->reply_to_name, "Northwind Help");
  EXPECT_EQ(got->postal_address, in.postal_address);
  EXPECT_EQ(store_->senders().GetByEmail(ws_, "NEWS@northwind.example")->id, created->id);
  EXPECT_EQ(store_->senders().GetByEmail(ws_, "other@northwind.example").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->senders().GetByEmail(ws_, "not an address").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->senders().Get(ws_, created->id + 100).error().code, ErrorCode::kNotFound);
}

TEST_P(Senders, RefusesBadValuesAndHeaderInjection) {
  SenderStore& ss = store_->senders();
  SenderIdentity s = Input("news@northwind.example");
  s.name = "Evil\r\nBcc: victim@example.com";
  EXPECT_EQ(ss.Create(s).error().field, "name");
  s = Input("news@northwind.example\r\nBcc: x@y.z");
  EXPECT_EQ(ss.Create(s).error().field, "email");
  s = Input("");
  EXPECT_EQ(ss.Create(s).error().field, "email");
  s = Input("news@northwind.example");
  s.reply_to_email = "no-at-sign";
  EXPECT_EQ(ss.Create(s).error().field, "reply_to.email");
  s = Input("news@northwind.example");
  s.reply_to_name = "Help";
  EXPECT_EQ(ss.Create(s).error().field, "reply_to.email");
  s = Input("news@northwind.example");
  s.postal_address = "12 Harbour St\nPortland";
  EXPECT_EQ(ss.Create(s).error().field, "postal_address");
  EXPECT_TRUE(ss.List(ws_)->empty());
}

TEST_P(Senders, OneFromAddressPerWorkspaceWhateverItsCase) {
  SenderIdentity news = Make("news@northwind.example");
  auto again = store_->senders().Create(Input("News@NORTHWIND.example"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().field, "email");
  SenderIdentity orders = Make("orders@northwind.example");
  orders.email = "news@northwind.example";
  EXPECT_EQ(store_->senders().Update(orders).error().code, ErrorCode::kConflict);
  // Another workspace may use the same address, and sees nothing of this one's senders.
  auto other = store_->workspaces().Create("other");
  ASSERT_TRUE(other.ok());
  SenderIdentity elsewhere = Input("news@northwind.example");
  elsewhere.workspace_id = other->id;
  auto created = store_->senders().Create(elsewhere);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->is_default);
  EXPECT_EQ(store_->senders().Get(other->id, news.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->senders().Delete(other->id, news.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->senders().List(other->id)->size(), 1u);
}

TEST_P(Senders, OneDefaultPerWorkspace) {
  SenderIdentity a = Make("a@northwind.example");
  SenderIdentity b = Make("b@northwind.example");
  EXPECT_TRUE(a.is_default);
  EXPECT_FALSE(b.is_default);
  EXPECT_EQ(Defaults(), std::vector<SenderId>{a.id});
  SenderIdentity c = Make("c@northwind.example", /*is_default=*/true);
  EXPECT_EQ(Defaults(), std::vector<SenderId>{c.id});
  b.is_default = true;
  b.name = "B";
  auto updated = store_->senders().Update(b);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->name, "B");
  EXPECT_EQ(updated->created_at, b.created_at);
  EXPECT_EQ(Defaults(), std::vector<SenderId>{b.id});
  EXPECT_EQ((*store_->senders().GetDefault(ws_))->id, b.id);
  // Deleting the default leaves none; the workspace then sends from the configured sender.
  ASSERT_TRUE(store_->senders().Delete(ws_, b.id).ok());
  EXPECT_FALSE(store_->senders().GetDefault(ws_)->has_value());
  EXPECT_EQ(store_->senders().Delete(ws_, b.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->senders().Get(ws_, b.id).error().code, ErrorCode::kNotFound);
  ASSERT_EQ(store_->senders().List(ws_)->size(), 2u);
  SenderIdentity missing = Input("x@northwind.example");
  missing.id = 9999;
  EXPECT_EQ(store_->senders().Update(missing).error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, Senders, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
