// VERP envelope senders (variable envelope return path): each message leaves with its own
// bounce address, `<local>+<workspace>-<message>-<tag>@<domain>` built from the configured one
// (`bounces@example.com` -> `bounces+1-4711-3f2a...@example.com`), so an asynchronous bounce or
// a complaint that names the envelope sender finds its message.
//
// The tag is the first 80 bits of HMAC-SHA256 over "<workspace>-<message>", keyed with a key
// derived from the link secret, in lower-case hex: nobody can make the reader act on a message
// by guessing an address, and an MTA that lower-cases local parts breaks nothing.
//
//   VerpCodec verp = *VerpCodec::Create(secret);      // secret: at least 32 bytes
//   std::string from = verp.Encode("bounces@example.com", ws, message_id);
//   Result<VerpClaims> c = verp.Decode(from);         // kNotFound: not one of ours
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/model.h"

namespace rapport::tracking {

struct VerpClaims {
  WorkspaceId workspace_id = 0;
  int64_t message_id = 0;
  bool operator==(const VerpClaims&) const = default;
};

class VerpCodec {
 public:
  // kInvalid when the secret is shorter than 32 bytes.
  static Result<VerpCodec> Create(std::string_view secret);

  // The VERP form of `bounce_address`; the address itself when it has no '@' (the null sender).
  std::string Encode(std::string_view bounce_address, WorkspaceId ws, int64_t message_id) const;
  // The claims of a VERP address (case-insensitive). kNotFound when the address carries no VERP
  // token; kPermissionDenied (field "address") when it carries one whose tag does not verify.
  Result<VerpClaims> Decode(std::string_view address) const;

 private:
  explicit VerpCodec(std::string key) : key_(std::move(key)) {}
  std::string Tag(WorkspaceId ws, int64_t message_id) const;
  std::string key_;
};

}  // namespace rapport::tracking
