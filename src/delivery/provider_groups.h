// Mailbox providers that share infrastructure (and rate limits) under several domains. Pure.
//
// ProviderGroup("googlemail.com") == "gmail.com"; a domain not in the table is its own group.
// Domains are compared lower-case.
#pragma once

#include <string>
#include <string_view>

namespace rapport::delivery {

std::string ProviderGroup(std::string_view domain);

// The domain of "local@domain", lower-cased ("" when there is no '@').
std::string RecipientDomain(std::string_view address);

}  // namespace rapport::delivery
