// Sign-up and double opt-in: the use case behind the public POST /api/v1/subscribe and the
// /confirm/{token} page (docs/consent.md).
//
// Subscribe creates or updates the contact named by email, then for each topic asked for:
//   - a topic without double opt-in is subscribed at once (consent "granted", source "form:subscribe");
//   - a topic with double opt-in (Topic::double_opt_in) is not: a "requested" ledger record is
//     written and one confirmation mail is sent on the transactional lane through the send
//     service, from the workspace's confirmation template (installed with the default,
//     English and French, when missing), with a signed /confirm/{token} link that expires after
//     `confirm_ttl` (default 7 days). Until the link is followed the contact is not subscribed,
//     so the mail rule refuses it marketing mail under that topic.
// An address that was erased (the erasure list, issue 14) is subscribed only with `reconsent`
// (the form's explicit fresh-consent box); without it nothing is written and the outcome says
// `dropped`, so a caller answers as for any sign-up and reveals nothing.
//
// A contact who unsubscribed from all marketing (status unsubscribed) is never resubscribed by the
// form alone: every topic it asks for waits for the confirmation link, whatever the topic's
// double opt-in setting. Bounced and complained contacts stay as they are.
//
// Confirm records the confirmation (core/consent.h ConsentStore::Confirm: subscribed, "confirmed");
// a contact who had unsubscribed from all marketing becomes active again.
// Thread-safe; the store, clock, signer and send service must outlive it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/store.h"
#include "send/send_service.h"
#include "tracking/link_signer.h"

namespace rapport::send {

struct SignupOptions {
  std::string confirmation_template = "confirm-subscription";
  std::chrono::seconds confirm_ttl{std::chrono::hours(24 * 7)};
};

struct SignupRequest {
  std::string email;  // as typed; normalized here
  std::vector<std::string> topics;
  std::string first_name;
  std::string locale;  // "en", "fr" or empty
  bool reconsent = false;
  Consent consent;  // source, time, truncated IP, user agent, wording version of the form
};

struct SignupOutcome {
  ContactId contact_id = 0;
  std::vector<std::string> subscribed;  // at once
  std::vector<std::string> pending;     // waiting for confirmation
  std::optional<MessageId> confirmation_message;
  bool dropped = false;  // an erased address without reconsent: nothing was written
};

struct ConfirmOutcome {
  Contact contact;
  std::vector<Subscription> subscriptions;
};

// The default confirmation template (English and French by the contact's locale), named `name`.
MessageTemplate DefaultConfirmationTemplate(WorkspaceId ws, std::string name);

class Signup {
 public:
  Signup(Store& store, const Clock& clock, const tracking::LinkSigner& links, SendService& sender,
         SignupOptions options = {});

  // kInvalid naming the field (email, topics) for a bad request; kNotFound (field "topics") for
  // an unknown topic; store and send errors as they come.
  Result<SignupOutcome> Subscribe(WorkspaceId ws, const SignupRequest& request);
  // `token` is the /confirm/ token. kPermissionDenied (field "token") for a forged or expired
  // one, kNotFound for a request that no longer exists (its contact erased).
  Result<ConfirmOutcome> Confirm(std::string_view token, const Consent& consent);
  // The claims of a valid confirmation token (for the GET page), as Confirm checks them.
  Result<tracking::LinkClaims> Check(std::string_view token) const;

  const SignupOptions& options() const { return options_; }

 private:
  Status EnsureTemplate(WorkspaceId ws);

  Store& store_;
  const Clock& clock_;
  const tracking::LinkSigner& links_;
  SendService& sender_;
  SignupOptions options_;
};

}  // namespace rapport::send
