#include "http/send_request_codec.h"

namespace rapport::http {

using send::SendRequest;

namespace {

Result<std::string> StringOf(const json::value& v, std::string field) {
  if (!v.is_string()) return Error::Invalid(std::move(field), field + " must be a string");
  return std::string(v.get_string());
}

Result<int64_t> IdOf(const json::value& v, std::string field) {
  if (!v.is_int64() || v.get_int64() <= 0)
    return Error::Invalid(std::move(field), field + " must be a positive integer");
  return v.get_int64();
}

// {"source": "campaign:7", "priority": 0, "on_cap": "defer" | "skip"}, every member optional.
Status DecodeGovernance(const json::value& v, SendRequest& out) {
  if (!v.is_object())
    return Error::Invalid("governance", "governance is {\"source\", \"priority\", \"on_cap\"}");
  for (const auto& [k, x] : v.get_object()) {
    if (k == "source") {
      RAPPORT_ASSIGN_OR_RETURN(std::string source, StringOf(x, "governance.source"));
      if (source.size() > 100) return Error::Invalid("governance.source", "a source is at most 100 bytes");
      for (unsigned char c : source)
        if (c < 0x20 || c == 0x7F)
          return Error::Invalid("governance.source", "a source has no control characters");
      out.governance.source = std::move(source);
    } else if (k == "priority") {
      if (!x.is_int64() || x.get_int64() < -1000 || x.get_int64() > 1000)
        return Error::Invalid("governance.priority", "priority is a whole number from -1000 to 1000");
      out.governance.priority = static_cast<int>(x.get_int64());
    } else if (k == "on_cap") {
      RAPPORT_ASSIGN_OR_RETURN(std::string on_cap, StringOf(x, "governance.on_cap"));
      if (on_cap == "defer")
        out.governance.on_cap = send::Governance::OnCap::kDefer;
      else if (on_cap == "skip")
        out.governance.on_cap = send::Governance::OnCap::kSkip;
      else
        return Error::Invalid("governance.on_cap", "on_cap is defer or skip");
    } else {
      return Error::Invalid("governance." + std::string(k), "unknown field '" + std::string(k) + "'");
    }
  }
  return {};
}

Status DecodeReplyTo(const json::value& v, SendRequest& out) {
  std::string email;
  if (v.is_string()) {
    email = std::string(v.get_string());
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.get_object()) {
      if (k == "email") {
        RAPPORT_ASSIGN_OR_RETURN(email, StringOf(x, "reply_to.email"));
      } else if (k == "name") {
        RAPPORT_ASSIGN_OR_RETURN(out.reply_to_name, StringOf(x, "reply_to.name"));
      } else {
        return Error::Invalid("reply_to." + std::string(k), "unknown field '" + std::string(k) + "'");
      }
    }
  } else {
    return Error::Invalid("reply_to", "reply_to is an address or {\"email\", \"name\"}");
  }
  RAPPORT_ASSIGN_OR_RETURN(out.reply_to, ParseEmailAddress(email, "reply_to"));
  if (out.reply_to_name.size() > 200)
    return Error::Invalid("reply_to.name", "reply_to.name is at most 200 bytes");
  return {};
}

// The contact, named as events name it: {"id"} | {"email"} | {"external_id"} (shared decoder).
Status DecodeContactObject(const json::value& v, SendRequest& out) {
  RAPPORT_ASSIGN_OR_RETURN(ContactRef ref, DecodeContactRef(v, "contact"));
  if (ref.id && (ref.email || ref.external_id))
    return Error::Invalid("contact", "name the contact by id, or by email and/or external_id");
  out.contact_id = ref.id;
  out.contact.email = std::move(ref.email);
  out.contact.external_id = std::move(ref.external_id);
  return {};
}

Status CheckContactInput(SendRequest& out) {
  if (out.contact_id) return {};
  Status st = ValidateContactInput(out.contact);
  if (!st.ok()) {
    Error e = st.error();
    if (!e.field.empty()) e.field = "contact." + e.field;
    return e;
  }
  return {};
}

}  // namespace

Result<SendRequest> DecodeSendRequest(const json::value& body) {
  std::optional<std::string> from_email;
  RAPPORT_ASSIGN_OR_RETURN(SendRequest r, DecodeSendRequest(body, &from_email));
  if (from_email) return Error::Invalid("from", "from is a sender id here");
  return r;
}

Result<SendRequest> DecodeSendRequest(const json::value& body, std::optional<std::string>* from_email) {
  if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
  SendRequest r;
  // A contact is named one way: contact_id, contact {...}, or email/external_id at the top level
  // (the flat form events take).
  int ways = 0;
  bool flat = false;
  for (const auto& [key, v] : body.get_object()) {
    if (key == "template") {
      RAPPORT_ASSIGN_OR_RETURN(r.template_name, StringOf(v, "template"));
      RAPPORT_TRY(ValidateSlug(r.template_name, "template", "a template name"));
    } else if (key == "template_id") {
      RAPPORT_ASSIGN_OR_RETURN(r.template_id, IdOf(v, "template_id"));
    } else if (key == "contact_id") {
      RAPPORT_ASSIGN_OR_RETURN(r.contact_id, IdOf(v, "contact_id"));
      ++ways;
    } else if (key == "contact") {
      RAPPORT_TRY(DecodeContactObject(v, r));
      ++ways;
    } else if (key == "email") {
      RAPPORT_ASSIGN_OR_RETURN(r.contact.email, StringOf(v, "email"));
      flat = true;
    } else if (key == "external_id") {
      RAPPORT_ASSIGN_OR_RETURN(r.contact.external_id, StringOf(v, "external_id"));
      flat = true;
    } else if (key == "class") {
      RAPPORT_ASSIGN_OR_RETURN(std::string c, StringOf(v, "class"));
      auto parsed = ParseMessageClass(c);
      if (!parsed) return Error::Invalid("class", "class is transactional or marketing");
      r.message_class = *parsed;
    } else if (key == "topic") {
      RAPPORT_ASSIGN_OR_RETURN(std::string topic, StringOf(v, "topic"));
      RAPPORT_TRY(ValidateSlug(topic, "topic", "a topic key"));
      r.topic = std::move(topic);
    } else if (key == "data") {
      if (!v.is_object()) return Error::Invalid("data", "data must be an object");
      r.data = v.get_object();
      if (json::serialize(r.data).size() > send::kMaxSendDataBytes)
        return Error::Invalid("data", "data is at most 64 KiB of JSON");
    } else if (key == "reply_to") {
      RAPPORT_TRY(DecodeReplyTo(v, r));
    } else if (key == "from") {
      if (v.is_string()) {
        RAPPORT_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(v.get_string(), "from"));
        *from_email = std::move(email);
      } else if (v.is_int64() || v.is_uint64()) {
        RAPPORT_ASSIGN_OR_RETURN(r.sender_id, IdOf(v, "from"));
      } else {
        return Error::Invalid("from", "from is a sender id or a sender's from address");
      }
    } else if (key == "governance") {
      RAPPORT_TRY(DecodeGovernance(v, r));
    } else if (key == "headers") {
      if (!v.is_object()) return Error::Invalid("headers", "headers is an object of name -> value");
      if (v.get_object().size() > send::kMaxSendHeaders)
        return Error::Invalid("headers", "at most 20 extra headers");
      for (const auto& [name, value] : v.get_object()) {
        RAPPORT_ASSIGN_OR_RETURN(std::string text, StringOf(value, "headers." + std::string(name)));
        r.headers.emplace_back(std::string(name), std::move(text));
      }
    } else {
      return Error::Invalid(std::string(key), "unknown field '" + std::string(key) + "'");
    }
  }
  if (r.template_id.has_value() == !r.template_name.empty())
    return Error::Invalid("template", "give one of template (a name) or template_id");
  if (flat) ++ways;
  if (ways != 1)
    return Error::Invalid("contact_id",
                          "name the contact one way: contact_id, contact {...}, or email/external_id");
  RAPPORT_TRY(CheckContactInput(r));
  return r;
}

}  // namespace rapport::http
