#include "mail/dkim_keyring.h"

namespace rapport::mail {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

Result<DkimKeyring> DkimKeyring::FromFiles(std::span<const DkimKeyFile> files) {
  DkimKeyring ring;
  for (const DkimKeyFile& f : files) RAPPORT_TRY(ring.Load(f));
  return ring;
}

Status DkimKeyring::Add(DkimKey key) {
  const std::string domain = Lower(key.domain());
  if (domain.empty()) return Error::Invalid("domain", "a DKIM key needs a signing domain");
  std::vector<DkimKey>& keys = keys_[domain];
  for (const DkimKey& k : keys) {
    if (k.selector() == key.selector())
      return Error::Conflict("two DKIM keys for " + key.selector() + "._domainkey." + domain, "selector");
  }
  keys.push_back(std::move(key));
  signers_[domain] = std::make_shared<const DkimSigner>(keys);
  return {};
}

Status DkimKeyring::Load(const DkimKeyFile& file) {
  RAPPORT_ASSIGN_OR_RETURN(DkimKey key,
                           LoadDkimKey(file.domain, file.selector, file.key_file, file.algorithm));
  return Add(std::move(key));
}

const DkimSigner* DkimKeyring::SignerFor(std::string_view domain) const {
  const std::string lower = Lower(domain);
  std::string_view d = lower;
  while (!d.empty()) {
    auto it = signers_.find(d);
    if (it != signers_.end()) return it->second.get();
    const size_t dot = d.find('.');
    if (dot == std::string_view::npos) break;
    d.remove_prefix(dot + 1);
  }
  return nullptr;
}

Result<std::string> DkimKeyring::Sign(std::string_view domain, std::string_view message,
                                      Timestamp now) const {
  const DkimSigner* signer = SignerFor(domain);
  if (signer == nullptr) return std::string(message);
  return signer->Sign(message, now);
}

std::vector<std::string> DkimKeyring::Selectors() const {
  std::vector<std::string> out;
  for (const auto& [domain, keys] : keys_)
    for (const DkimKey& k : keys) out.push_back(k.selector() + "._domainkey." + domain);
  return out;
}

}  // namespace rapport::mail
