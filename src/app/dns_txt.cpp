#include "app/dns_txt.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace rapport::app {

namespace {

Result<sockaddr_in> ParseServer(std::string_view server) {
  std::string host(server);
  uint16_t port = 53;
  if (size_t colon = server.rfind(':'); colon != std::string_view::npos) {
    host = std::string(server.substr(0, colon));
    std::string_view p = server.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535)
      return Error::Invalid("resolver", "the resolver's port must be 1 to 65535");
    port = static_cast<uint16_t>(value);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return Error::Invalid("resolver",
                          "the resolver is an IPv4 address with an optional :port (e.g. 127.0.0.1:5353)");
  return addr;
}

}  // namespace

Status ValidateResolver(std::string_view server) {
  RAPPORT_TRY(ParseServer(server));
  return {};
}

Result<std::vector<std::string>> LookupTxt(std::string_view server, std::string_view name) {
  RAPPORT_ASSIGN_OR_RETURN(sockaddr_in addr, ParseServer(server));
  struct __res_state state;
  std::memset(&state, 0, sizeof(state));
  if (res_ninit(&state) != 0) return Error::Internal("the resolver library could not be initialized");
  state.nscount = 1;
  state.nsaddr_list[0] = addr;
  state.retrans = 2;
  state.retry = 2;
  state.options |= RES_RECURSE;
  state.options &= ~static_cast<decltype(state.options)>(RES_DNSRCH | RES_DEFNAMES);
  std::vector<unsigned char> answer(65535);
  std::string query(name);
  if (query.empty() || query.back() != '.') query += '.';  // absolute: no search list
  int len =
      res_nquery(&state, query.c_str(), ns_c_in, ns_t_txt, answer.data(), static_cast<int>(answer.size()));
  int herr = state.res_h_errno;
  res_nclose(&state);
  std::vector<std::string> out;
  if (len < 0) {
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) return out;
    return Error::Unavailable("DNS server " + std::string(server) + " gave no answer for " +
                              std::string(name) + " (" + hstrerror(herr) + ")");
  }
  return ParseTxtAnswer(answer.data(), std::min(len, static_cast<int>(answer.size())));
}

Result<std::vector<std::string>> ParseTxtAnswer(const unsigned char* message, int len) {
  std::vector<std::string> out;
  ns_msg msg;
  if (len < 0 || ns_initparse(message, len, &msg) != 0) return Error::Unavailable("a malformed DNS answer");
  int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return Error::Unavailable("a malformed DNS answer record");
    if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in) continue;
    const unsigned char* p = ns_rr_rdata(rr);
    const unsigned char* end = p + ns_rr_rdlen(rr);
    std::string text;
    while (p < end) {
      size_t n = *p++;
      if (n > static_cast<size_t>(end - p)) n = static_cast<size_t>(end - p);
      text.append(reinterpret_cast<const char*>(p), n);
      p += n;
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace rapport::app
