#include "http/sender_codec.h"

namespace rapport::http {

namespace {

Result<std::string> Text(const json::value& v, std::string_view field) {
  if (v.is_null()) return std::string();
  if (!v.is_string()) return Error::Invalid(std::string(field), std::string(field) + " must be a string");
  return std::string(v.get_string());
}

}  // namespace

json::object EncodeSender(const SenderIdentity& s) {
  json::value reply_to = nullptr;
  if (!s.reply_to_email.empty())
    reply_to = json::object{{"email", s.reply_to_email}, {"name", s.reply_to_name}};
  return json::object{{"id", s.id},
                      {"name", s.name},
                      {"email", s.email},
                      {"domain", s.Domain()},
                      {"reply_to", std::move(reply_to)},
                      {"postal_address", s.postal_address},
                      {"default", s.is_default},
                      {"created_at", FormatTimestamp(s.created_at)},
                      {"updated_at", FormatTimestamp(s.updated_at)}};
}

Result<SenderIdentity> DecodeSender(const json::value& body) {
  if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
  SenderIdentity s;
  for (const auto& [k, v] : body.get_object()) {
    if (k == "name") {
      RAPPORT_ASSIGN_OR_RETURN(s.name, Text(v, "name"));
    } else if (k == "email") {
      RAPPORT_ASSIGN_OR_RETURN(s.email, Text(v, "email"));
    } else if (k == "postal_address") {
      RAPPORT_ASSIGN_OR_RETURN(s.postal_address, Text(v, "postal_address"));
    } else if (k == "default") {
      if (!v.is_bool()) return Error::Invalid("default", "default is true or false");
      s.is_default = v.get_bool();
    } else if (k == "reply_to") {
      if (v.is_object()) {
        for (const auto& [rk, rv] : v.get_object()) {
          if (rk == "email") {
            RAPPORT_ASSIGN_OR_RETURN(s.reply_to_email, Text(rv, "reply_to.email"));
          } else if (rk == "name") {
            RAPPORT_ASSIGN_OR_RETURN(s.reply_to_name, Text(rv, "reply_to.name"));
          } else {
            return Error::Invalid("reply_to." + std::string(rk), "unknown field '" + std::string(rk) + "'");
          }
        }
      } else if (v.is_string() || v.is_null()) {
        RAPPORT_ASSIGN_OR_RETURN(s.reply_to_email, Text(v, "reply_to"));
      } else {
        return Error::Invalid("reply_to", "reply_to is an address, {\"email\", \"name\"} or null");
      }
    } else {
      return Error::Invalid(std::string(k), "unknown field '" + std::string(k) + "'");
    }
  }
  if (s.email.empty()) return Error::Invalid("email", "email (the from address) is required");
  return s;
}

}  // namespace rapport::http
