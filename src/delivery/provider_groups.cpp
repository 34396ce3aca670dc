#include "delivery/provider_groups.h"

#include <array>
#include <utility>

namespace rapport::delivery {
namespace {

// domain -> group (the group is named after its best-known domain).
constexpr std::array<std::pair<std::string_view, std::string_view>, 27> kGroups = {{
    {"gmail.com", "gmail.com"},      {"googlemail.com", "gmail.com"},  {"outlook.com", "outlook.com"},
    {"hotmail.com", "outlook.com"},  {"hotmail.co.uk", "outlook.com"}, {"hotmail.fr", "outlook.com"},
    {"live.com", "outlook.com"},     {"live.co.uk", "outlook.com"},    {"msn.com", "outlook.com"},
    {"passport.com", "outlook.com"}, {"yahoo.com", "yahoo.com"},       {"yahoo.co.uk", "yahoo.com"},
    {"yahoo.fr", "yahoo.com"},       {"ymail.com", "yahoo.com"},       {"rocketmail.com", "yahoo.com"},
    {"aol.com", "yahoo.com"},        {"aim.com", "yahoo.com"},         {"icloud.com", "icloud.com"},
    {"me.com", "icloud.com"},        {"mac.com", "icloud.com"},        {"gmx.de", "gmx.net"},
    {"gmx.net", "gmx.net"},          {"gmx.com", "gmx.net"},           {"web.de", "gmx.net"},
    {"yandex.ru", "yandex.ru"},      {"yandex.com", "yandex.ru"},      {"ya.ru", "yandex.ru"},
}};

}  // namespace

std::string ProviderGroup(std::string_view domain) {
  std::string d(domain);
  for (char& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const auto& [name, group] : kGroups) {
    if (d == name) return std::string(group);
  }
  return d;
}

std::string RecipientDomain(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string d(address.substr(at + 1));
  for (char& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return d;
}

}  // namespace rapport::delivery
