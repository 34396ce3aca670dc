#include "app/journey_setup.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>
#include <tuple>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "app/http_fetch.h"
#include "automation/steps.h"
#include "compose/composer.h"
#include "segment/segment_service.h"

namespace rapport::app {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A refusal of the send service is a skipped send with its reason; other errors stay errors.
Result<automation::SendReply> ReplyOf(Result<send::SendOutcome> sent) {
  automation::SendReply reply;
  if (!sent.ok()) {
    const Error& e = sent.error();
    switch (e.code) {
      case ErrorCode::kSuppressed:
      case ErrorCode::kNotFound:
      case ErrorCode::kInvalid:
      case ErrorCode::kConflict:
        reply.queued = false;
        reply.skipped_reason = e.message.empty() ? std::string(ErrorCodeName(e.code)) : e.message;
        return reply;
      default: return e;
    }
  }
  if (sent->message.state == MessageState::kSuppressed) {  // skipped by the frequency governor
    reply.queued = false;
    reply.skipped_reason = sent->message.last_reply;
    return reply;
  }
  reply.queued = true;
  reply.replayed = sent->replayed;
  reply.message_id = sent->message.id;
  reply.subject = sent->message.subject;
  return reply;
}

send::Governance GovernanceOf(const automation::SendAsk& ask) {
  send::Governance g;
  g.source = ask.source;
  g.priority = ask.priority;
  g.on_cap = ask.skip_on_cap ? send::Governance::OnCap::kSkip : send::Governance::OnCap::kDefer;
  return g;
}

}  // namespace

Result<automation::SendReply> SendServiceMailer::Send(const automation::SendAsk& ask) {
  send::SendRequest req;
  req.template_name = ask.template_name;
  req.contact_id = ask.contact_id;
  req.message_class = ask.message_class;
  req.topic = ask.topic;
  req.data = ask.data;
  req.idempotency_key = ask.idempotency_key;
  req.sender_id = ask.sender_id;
  req.governance = GovernanceOf(ask);
  return ReplyOf(sender_.Send(ask.workspace_id, std::move(req)));
}

// The asks that share a template, class, topic, sender and step (the governor's source) go
// through one SendBulk: one store transaction for all of them, each recipient checked by the
// same rule as Send. An ask without an idempotency key is sent alone.
std::vector<Result<automation::SendReply>> SendServiceMailer::SendMany(
    const std::vector<automation::SendAsk>& asks) {
  using Key = std::tuple<WorkspaceId, std::string, MessageClass, std::optional<std::string>,
                         std::optional<int64_t>, std::string, int, bool>;
  std::vector<Result<automation::SendReply>> out(asks.size(), Error::Internal("not sent"));
  std::map<Key, std::vector<size_t>> groups;
  for (size_t i = 0; i < asks.size(); ++i) {
    const automation::SendAsk& a = asks[i];
    if (a.idempotency_key.empty()) {
      out[i] = Send(a);
      continue;
    }
    groups[Key{a.workspace_id, a.template_name, a.message_class, a.topic, a.sender_id, a.source, a.priority,
               a.skip_on_cap}]
        .push_back(i);
  }
  for (const auto& [key, members] : groups) {
    const automation::SendAsk& first = asks[members.front()];
    send::BulkSend bulk;
    bulk.template_name = first.template_name;
    bulk.message_class = first.message_class;
    bulk.topic = first.topic;
    bulk.sender_id = first.sender_id;
    bulk.governance = GovernanceOf(first);
    bulk.recipients.reserve(members.size());
    for (size_t i : members)
      bulk.recipients.push_back(
          send::BulkRecipient{asks[i].contact_id, asks[i].data, asks[i].idempotency_key});
    auto sent = sender_.SendBulk(first.workspace_id, bulk);
    if (!sent.ok()) {
      for (size_t i : members) out[i] = ReplyOf(sent.error());
      continue;
    }
    for (size_t k = 0; k < members.size() && k < sent->size(); ++k)
      out[members[k]] = ReplyOf(std::move((*sent)[k]));
  }
  return out;
}

Result<std::string> SendServiceMailer::PreviewSubject(const automation::SendAsk& ask) {
  RAPPORT_ASSIGN_OR_RETURN(MessageTemplate t,
                           store_.templates().GetByName(ask.workspace_id, ask.template_name));
  RAPPORT_ASSIGN_OR_RETURN(Contact contact, store_.contacts().Get(ask.workspace_id, ask.contact_id));
  RAPPORT_ASSIGN_OR_RETURN(auto compiled, sender_.templates().Compiled(t));
  compose::ComposeRequest req;
  req.contact = &contact;
  req.message_class = ask.message_class;
  req.data = ask.data;
  req.unsubscribe_url = "https://unsubscribe.invalid/preview";
  req.now = clock_.Now();
  RAPPORT_ASSIGN_OR_RETURN(compose::ComposedMessage m, compose::RenderParts(*compiled, req));
  return m.subject;
}

Result<bool> SegmentServiceMembership::InSegment(WorkspaceId ws, ContactId contact,
                                                 std::string_view segment) {
  RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> in, segments_.ContactSegments(ws, contact));
  for (const SavedSegment& s : in)
    if (s.name == segment) return true;
  return false;
}

Result<bool> SegmentServiceMembership::Matches(WorkspaceId ws, ContactId contact,
                                               const std::string& expression) {
  return segments_.Matches(ws, contact, expression);
}

Status SegmentServiceMembership::CheckExpression(WorkspaceId ws, const std::string& expression) {
  return segments_.CheckExpression(ws, expression);
}

std::string WebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body) {
  std::string message = fmt::format("{}.{}", timestamp, body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex = "sha256=";
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

namespace {

template <class Stream>
int Exchange(Stream& stream, const HttpUrl& t, const automation::WebhookAsk& ask) {
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.target, 11};
  req.set(bhttp::field::host, t.HostHeader());
  req.set(bhttp::field::user_agent, "rapport-webhooks");
  for (const auto& [k, v] : ask.headers) req.set(k, v);
  req.set("X-Rapport-Timestamp", std::to_string(ask.timestamp));
  req.set("X-Rapport-Signature", WebhookSignature(ask.secret, ask.timestamp, ask.body));
  req.body() = ask.body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024);
  bhttp::read(stream, buffer, parser);
  return static_cast<int>(parser.get().result_int());
}

}  // namespace

automation::WebhookReply HttpWebhookClient::Post(const automation::WebhookAsk& ask) {
  automation::WebhookReply reply;
  Result<HttpUrl> t = ParseHttpUrl(ask.url);
  if (!t.ok()) {
    reply.error = t.error().message;
    return reply;
  }
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(t->host, t->port);
    if (!t->tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(std::chrono::seconds(10));
      stream.connect(endpoints);
      reply.status = Exchange(stream, *t, ask);
      return reply;
    }
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(net::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), t->host.c_str())) {
      reply.error = "TLS: cannot set the server name";
      return reply;
    }
    stream.set_verify_callback(net::ssl::host_name_verification(t->host));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(net::ssl::stream_base::client);
    reply.status = Exchange(stream, *t, ask);
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

std::unique_ptr<automation::StepRegistry> BuildStepRegistry() {
  auto registry = std::make_unique<automation::StepRegistry>();
  Status st = automation::RegisterBuiltinSteps(*registry);
  if (!st.ok()) std::abort();  // the built-in names are distinct and well formed: a programming error
  return registry;
}

}  // namespace rapport::app
