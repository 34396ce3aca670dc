#include "app/http_fetch.h"

#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace rapport::app {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

template <class Stream>
Result<std::string> Exchange(Stream& stream, const HttpUrl& u, size_t max_bytes) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u.target, 11};
  req.set(bhttp::field::host, u.HostHeader());
  req.set(bhttp::field::user_agent, "rapport");
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  bhttp::read(stream, buffer, parser);
  auto& res = parser.get();
  if (res.result_int() != 200)
    return Error{ErrorCode::kUnavailable,
                 "GET " + u.host + u.target + ": HTTP " + std::to_string(res.result_int()), "url"};
  return std::move(res.body());
}

}  // namespace

Result<std::string> HttpGet(const std::string& url, size_t max_bytes) {
  RAPPORT_ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(u.host, u.port);
    if (!u.tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(std::chrono::seconds(60));
      stream.connect(endpoints);
      return Exchange(stream, u, max_bytes);
    }
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(net::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()))
      return Error{ErrorCode::kUnavailable, "TLS: cannot set the server name", "url"};
    stream.set_verify_callback(net::ssl::host_name_verification(u.host));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(net::ssl::stream_base::client);
    return Exchange(stream, u, max_bytes);
  } catch (const std::exception& e) {
    return Error{ErrorCode::kUnavailable, "GET " + u.host + u.target + ": " + e.what(), "url"};
  }
}

}  // namespace rapport::app
