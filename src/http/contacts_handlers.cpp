// Routes: /api/v1/contacts, /api/v1/contacts/{id}, /api/v1/contacts/{id}/merge,
// /api/v1/contacts/{id}/events.
#include <spdlog/spdlog.h>

#include "core/email_address.h"
#include "http/handlers.h"
#include "tracking/erasure.h"

namespace rapport::http {

namespace {

json::value NextCursor(const std::string& c) { return c.empty() ? json::value(nullptr) : json::value(c); }

// The contact a reference names ({"id"} | {"email"} | {"external_id"}), or kNotFound.
Result<Contact> FindByRef(Store& store, WorkspaceId ws, const ContactRef& ref) {
  if (ref.id) return store.contacts().Get(ws, *ref.id);
  if (ref.email) {
    RAPPORT_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(*ref.email, "contact.email"));
    return store.contacts().GetByEmail(ws, email);
  }
  return store.contacts().GetByExternalId(ws, *ref.external_id);
}

}  // namespace

namespace {

// Waits (5 s at most) until every tracking hit written so far is loaded (http/hit_loader.h).
void DrainHitLog(Services& s, std::string_view why) {
  if (!s.hit_loader) return;
  if (Status st = s.hit_loader->Drain(std::chrono::seconds(5)); !st.ok())
    spdlog::warn("{}: {}; its hits are dropped when they are loaded", why, st.error().message);
}

}  // namespace

void AddContactRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/contacts", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(ContactInput input, DecodeContactInput(body));
    if (!input.email && !input.external_id)
      return Error::Invalid("email", "a contact needs an email or an external_id");
    RAPPORT_ASSIGN_OR_RETURN(UpsertResult up, s.store.contacts().Upsert(call.key.workspace_id, input));
    Audit(s, call, up.created ? "contact.create" : "contact.update", "contact",
          std::to_string(up.contact.id));
    return JsonResponse(up.created ? 201 : 200, EncodeContact(up.contact));
  });

  router.Add("GET", "/api/v1/contacts", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    ContactQuery q;
    RAPPORT_ASSIGN_OR_RETURN(q.limit, LimitParam(call.request));
    if (const std::string* c = call.request.Query("cursor")) q.cursor = *c;
    if (const std::string* e = call.request.Query("email"); e && !e->empty()) {
      RAPPORT_ASSIGN_OR_RETURN(q.email, NormalizeEmail(*e, "email"));
    }
    RAPPORT_ASSIGN_OR_RETURN(Page<Contact> page, s.store.contacts().List(call.key.workspace_id, q));
    json::array data;
    data.reserve(page.items.size());
    for (const Contact& c : page.items) data.push_back(EncodeContact(c));
    return JsonResponse(
        200, json::object{{"data", std::move(data)}, {"next_cursor", NextCursor(page.next_cursor)}});
  });

  router.Add("GET", "/api/v1/contacts/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
    RAPPORT_ASSIGN_OR_RETURN(Contact c, s.store.contacts().Get(call.key.workspace_id, id));
    return JsonResponse(200, EncodeContact(c));
  });

  router.Add("PATCH", "/api/v1/contacts/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(ContactInput patch, DecodeContactInput(body));
    RAPPORT_ASSIGN_OR_RETURN(Contact c, s.store.contacts().Update(call.key.workspace_id, id, patch));
    Audit(s, call, "contact.update", "contact", std::to_string(id));
    return JsonResponse(200, EncodeContact(c));
  });

  router.Add("DELETE", "/api/v1/contacts/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
    RAPPORT_TRY(tracking::EraseContact(s.store, s.options.copies, call.key.workspace_id, id));
    s.link_cache.DropContact(call.key.workspace_id, id);  // nothing of the contact stays in memory
    // Nor in the hit log: its loader drops the contact's hits (the store refuses them) and deletes
    // the files they were in (http/hit_loader.h).
    DrainHitLog(s, "erasure");
    Audit(s, call, "contact.erase", "contact", std::to_string(id));
    return NoContent();
  });

  // Body {"contact": {"id"|"email"|"external_id"}} or {"contact_id": N}: the contact merged into {id}.
  router.Add("POST", "/api/v1/contacts/{id}/merge", Access::kWrite,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
               RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
               if (!body.is_object())
                 return Error::Invalid("contact", "the body is {\"contact\": {\"id\": N}}");
               ContactRef ref;
               for (const auto& [key, v] : body.get_object()) {
                 if (key == "contact") {
                   RAPPORT_ASSIGN_OR_RETURN(ref, DecodeContactRef(v, "contact"));
                 } else if (key == "contact_id") {
                   RAPPORT_ASSIGN_OR_RETURN(ref, DecodeContactRef(json::object{{"id", v}}, "contact_id"));
                 } else {
                   return Error::Invalid(std::string(key), "unknown field '" + std::string(key) + "'");
                 }
               }
               if (!ref.id && !ref.email && !ref.external_id)
                 return Error::Invalid("contact", "name the contact to merge with contact or contact_id");
               RAPPORT_ASSIGN_OR_RETURN(Contact other, FindByRef(s.store, call.key.workspace_id, ref));
               // The hits written so far become events of their contact first, so the merge moves them.
               DrainHitLog(s, "merge");
               RAPPORT_ASSIGN_OR_RETURN(Contact merged,
                                        s.store.contacts().Merge(call.key.workspace_id, id, other.id));
               s.link_cache.DropContact(call.key.workspace_id, id);  // its messages moved
               s.link_cache.DropContact(call.key.workspace_id, other.id);
               Audit(s, call, "contact.merge", "contact", std::to_string(id),
                     json::object{{"merged_contact_id", other.id}});
               return JsonResponse(200, EncodeContact(merged));
             });

  router.Add(
      "GET", "/api/v1/contacts/{id}/events", Access::kRead, [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
        EventQuery q;
        RAPPORT_ASSIGN_OR_RETURN(q.limit, LimitParam(call.request));
        if (const std::string* c = call.request.Query("cursor")) q.cursor = *c;
        RAPPORT_TRY(s.store.contacts().Get(call.key.workspace_id, id));  // 404 for an unknown contact
        RAPPORT_ASSIGN_OR_RETURN(Page<Event> page,
                                 s.store.events().ListForContact(call.key.workspace_id, id, q));
        json::array data;
        data.reserve(page.items.size());
        for (const Event& e : page.items) data.push_back(EncodeEvent(e));
        return JsonResponse(
            200, json::object{{"data", std::move(data)}, {"next_cursor", NextCursor(page.next_cursor)}});
      });
}

}  // namespace rapport::http
