// The DNS answers and TXT records `rapport senders check --resolver` reads (app/dns_txt.h,
// app/sender_dns.h): a response message parsed for its TXT records, and each record compared
// with the DKIM, SPF and DMARC records to publish. Nothing may crash, hang or read out of
// bounds, whatever a DNS server sends.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "app/dns_txt.h"
#include "app/sender_dns.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rapport::app;
  auto parsed = ParseTxtAnswer(data, static_cast<int>(size));
  std::vector<std::string> records;
  if (parsed.ok()) records = std::move(parsed).value();
  records.emplace_back(reinterpret_cast<const char*>(data), size);  // the bytes as one TXT text
  static const std::vector<DkimKeyInfo> keys = {{"shop.example", "s1", "v=DKIM1; k=ed25519; p=AAAA"}};
  DomainPlan plan = PlanDomain("shop.example", keys);
  DomainPlan none = PlanDomain("other.example", keys);
  for (const DomainPlan* p : {&plan, &none})
    for (const DnsRecord& r : p->records) {
      TxtCheck c = CheckTxt(r, records);
      (void)c;
      DnsRecord echoed = r;
      echoed.value = records.back();
      (void)ZoneLine(echoed);
    }
  return 0;
}
