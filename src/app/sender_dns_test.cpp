#include "app/sender_dns.h"

#include <gtest/gtest.h>

namespace rapport::app {
namespace {

const std::vector<DkimKeyInfo> kKeys = {
    {"shop.example", "s1", "v=DKIM1; k=ed25519; p=AAAABBBB"},
    {"other.example", "s9", "v=DKIM1; k=rsa; p=CCCC"},
};

TEST(PlanDomain, TheConfiguredKeysOfTheDomainOrAParentThenSpfAndDmarc) {
  DomainPlan plan = PlanDomain("News.Shop.Example", kKeys);
  EXPECT_EQ(plan.domain, "news.shop.example");
  EXPECT_TRUE(plan.dkim_configured);
  ASSERT_EQ(plan.records.size(), 3u);
  EXPECT_EQ(plan.records[0].kind, RecordKind::kDkim);
  EXPECT_EQ(plan.records[0].name, "s1._domainkey.shop.example");
  EXPECT_EQ(plan.records[0].value, "v=DKIM1; k=ed25519; p=AAAABBBB");
  EXPECT_FALSE(plan.records[0].placeholder);
  EXPECT_EQ(plan.records[1].name, "news.shop.example");
  EXPECT_TRUE(plan.records[1].value.starts_with("v=spf1 "));
  EXPECT_TRUE(plan.records[1].placeholder);
  EXPECT_EQ(plan.records[2].name, "_dmarc.news.shop.example");
  EXPECT_EQ(plan.records[2].value,
            "v=DMARC1; p=none; rua=mailto:dmarc-reports@news.shop.example; adkim=r; aspf=r");
}

TEST(PlanDomain, ADomainWithoutAKeyGetsTheSuggestedRecordAndWhatToRun) {
  DomainPlan plan = PlanDomain("third.example", kKeys, "mailto:d@x.example");
  EXPECT_FALSE(plan.dkim_configured);
  EXPECT_EQ(plan.records[0].name, "rapport._domainkey.third.example");
  EXPECT_TRUE(plan.records[0].placeholder);
  EXPECT_NE(plan.records[0].note.find("rapport dkim keygen --domain third.example"), std::string::npos);
  EXPECT_NE(plan.records[2].value.find("rua=mailto:d@x.example"), std::string::npos);
  auto list = BulkSenderChecklist(plan, true);
  EXPECT_TRUE(list[0].starts_with("[ ] DKIM"));
}

TEST(ZoneLine, SplitsLongValuesIntoQuotedStrings) {
  DnsRecord r;
  r.name = "s._domainkey.x.example";
  r.value = std::string(300, 'a') + "\"";
  std::string line = ZoneLine(r);
  EXPECT_EQ(line, "s._domainkey.x.example. IN TXT \"" + std::string(255, 'a') + "\" \"" +
                      std::string(45, 'a') + "\\\"\"");
}

TEST(CheckTxt, DkimComparesTheKeyAndItsType) {
  DnsRecord r = PlanDomain("shop.example", kKeys).records[0];
  EXPECT_EQ(CheckTxt(r, {}).outcome, TxtOutcome::kMissing);
  EXPECT_EQ(CheckTxt(r, {"v=DKIM1; k=ed25519; p=AAAA BBBB"}).outcome, TxtOutcome::kMatches);
  EXPECT_EQ(CheckTxt(r, {"v=DKIM1;k=ed25519;p=AAAABBBB;"}).outcome, TxtOutcome::kMatches);
  EXPECT_EQ(CheckTxt(r, {"v=DKIM1; k=rsa; p=AAAABBBB"}).outcome, TxtOutcome::kDiffers);
  EXPECT_EQ(CheckTxt(r, {"v=DKIM1; k=ed25519; p=ZZZZ"}).outcome, TxtOutcome::kDiffers);
  TxtCheck revoked = CheckTxt(r, {"v=DKIM1; k=ed25519; p="});
  EXPECT_EQ(revoked.outcome, TxtOutcome::kDiffers);
  EXPECT_NE(revoked.detail.find("revoked"), std::string::npos);
  EXPECT_EQ(CheckTxt(r, {"unrelated text"}).outcome, TxtOutcome::kMissing);
  // The rsa default of k=.
  DnsRecord rsa = PlanDomain("other.example", kKeys).records[0];
  EXPECT_EQ(CheckTxt(rsa, {"v=DKIM1; p=CCCC"}).outcome, TxtOutcome::kMatches);
}

TEST(CheckTxt, SpfExactlyOneAndNotPlusAll) {
  DnsRecord r = PlanDomain("shop.example", kKeys).records[1];
  EXPECT_EQ(CheckTxt(r, {"google-site-verification=x"}).outcome, TxtOutcome::kMissing);
  EXPECT_EQ(CheckTxt(r, {"v=spf1 ip4:192.0.2.1 -all", "x"}).outcome, TxtOutcome::kPresent);
  EXPECT_EQ(CheckTxt(r, {"V=SPF1 include:_spf.example ~all"}).outcome, TxtOutcome::kPresent);
  EXPECT_EQ(CheckTxt(r, {"v=spf1 -all", "v=spf1 a -all"}).outcome, TxtOutcome::kDiffers);
  EXPECT_EQ(CheckTxt(r, {"v=spf1 +all"}).outcome, TxtOutcome::kDiffers);
  EXPECT_EQ(CheckTxt(r, {"v=spf10 a"}).outcome, TxtOutcome::kMissing);
}

TEST(CheckTxt, DmarcExactlyOneWithAPolicy) {
  DnsRecord r = PlanDomain("shop.example", kKeys).records[2];
  EXPECT_EQ(CheckTxt(r, {}).outcome, TxtOutcome::kMissing);
  TxtCheck ok = CheckTxt(r, {"v=DMARC1; p=quarantine; rua=mailto:a@b.example"});
  EXPECT_EQ(ok.outcome, TxtOutcome::kPresent);
  EXPECT_EQ(ok.detail, "policy p=quarantine, reports to mailto:a@b.example");
  EXPECT_EQ(CheckTxt(r, {"v=DMARC1; rua=mailto:a@b.example"}).outcome, TxtOutcome::kDiffers);
  EXPECT_EQ(CheckTxt(r, {"v=DMARC1; p=none", "v=DMARC1; p=reject"}).outcome, TxtOutcome::kDiffers);
}

}  // namespace
}  // namespace rapport::app
