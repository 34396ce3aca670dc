#include "automation/recipes.h"
#include "core/json_parse.h"

#include <fmt/format.h>

namespace rapport::automation {

namespace {

namespace json = boost::json;

// One responsive layout (a centred 600 px column that shrinks on phones) around a body, in English
// or French by the contact's locale.
std::string Html(std::string_view en, std::string_view fr, std::string_view button_url = {},
                 std::string_view button_en = {}, std::string_view button_fr = {}) {
  std::string button;
  if (!button_url.empty())
    button = fmt::format(
        "<p style=\"margin:24px 0\"><a href=\"{}\" style=\"background:#1a73e8;color:#ffffff;padding:12px "
        "20px;"
        "border-radius:4px;text-decoration:none;display:inline-block\">{{% if fr %}}{}{{% else %}}{}{{% "
        "endif "
        "%}}</a></p>",
        button_url, button_fr, button_en);
  return fmt::format(
      "{{% assign fr = contact.locale | slice: 0, 2 %}}{{% if fr == 'fr' %}}{{% assign fr = true %}}{{% else "
      "%}}"
      "{{% assign fr = false %}}{{% endif %}}<!doctype html>\n"
      "<html><head><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta charset=\"utf-8\"></head>\n"
      "<body style=\"margin:0;padding:0;background:#f4f4f4\">\n"
      "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td "
      "align=\"center\">\n"
      "<table role=\"presentation\" width=\"100%\" style=\"max-width:600px;background:#ffffff;"
      "font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222222\" "
      "cellpadding=\"24\">"
      "<tr><td>\n"
      "{{% if fr %}}{}{{% else %}}{}{{% endif %}}\n{}\n"
      "</td></tr></table>\n</td></tr></table>\n</body></html>\n",
      fr, en, button);
}

std::string Text(std::string_view en, std::string_view fr) {
  return fmt::format(
      "{{% assign fr = contact.locale | slice: 0, 2 %}}{{% if fr == 'fr' %}}{}{{% else %}}{}{{% endif %}}\n",
      fr, en);
}

std::string Subject(std::string_view en, std::string_view fr) {
  return fmt::format(
      "{{% assign fr = contact.locale | slice: 0, 2 %}}{{% if fr == 'fr' %}}{}{{% else %}}{}{{% endif %}}",
      fr, en);
}

constexpr std::string_view kName = "{{ contact.first_name | default: 'there' }}";
constexpr std::string_view kNom = "{{ contact.first_name | default: '' }}";

RecipeTemplate T(std::string name, std::string_view subject_en, std::string_view subject_fr,
                 std::string_view en, std::string_view fr, std::string_view url = {},
                 std::string_view button_en = {}, std::string_view button_fr = {}) {
  return RecipeTemplate{std::move(name), Subject(subject_en, subject_fr),
                        Html(en, fr, url, button_en, button_fr),
                        Text(en, fr) + (url.empty() ? "" : std::string(url) + "\n")};
}

json::value Doc(std::string_view text) { return ParseJsonExact(text); }

std::vector<Recipe> Build() {
  std::vector<Recipe> out;
  out.push_back(Recipe{
      "welcome_series",
      "Three emails over a week after sign-up.",
      Doc(R"({"name":"welcome_series","trigger":{"type":"event","event":"contact.created"},
        "entry":{"reentry":"never"},
        "steps":[
          {"id":"welcome_1","kind":"send","template":"welcome-1","class":"marketing","next":"wait_1"},
          {"id":"wait_1","kind":"wait","duration":"3d","next":"welcome_2"},
          {"id":"welcome_2","kind":"send","template":"welcome-2","class":"marketing","next":"wait_2"},
          {"id":"wait_2","kind":"wait","duration":"4d","next":"welcome_3"},
          {"id":"welcome_3","kind":"send","template":"welcome-3","class":"marketing"}]})"),
      {T("welcome-1", "Welcome aboard", "Bienvenue",
         fmt::format("<h1>Hi {},</h1><p>Thanks for joining us. Here is what to expect from us.</p>", kName),
         fmt::format("<h1>Bonjour {},</h1><p>Merci de nous avoir rejoints. Voici ce qui vous attend.</p>",
                     kNom)),
       T("welcome-2", "Getting the most out of your account", "Bien profiter de votre compte",
         "<p>A few tips our customers love.</p>", "<p>Quelques conseils que nos clients adorent.</p>"),
       T("welcome-3", "A week with us", "Une semaine avec nous",
         "<p>Questions? Just reply to this email.</p>",
         "<p>Une question ? Répondez simplement à ce message.</p>")}});
  out.push_back(Recipe{
      "abandoned_cart",
      "Two reminders (after 1 hour, then 24 hours with a discount) until an order for the cart.",
      Doc(R"({"name":"abandoned_cart","trigger":{"type":"event","event":"cart_updated"},
        "entry":{"key":"cart_id","reentry":"always"},
        "goal":{"event":"order_placed","match":"cart_id","revenue":"total"},
        "steps":[
          {"id":"wait_1h","kind":"wait","duration":"1h","next":"reminder"},
          {"id":"reminder","kind":"send","template":"cart-reminder","class":"marketing","next":"wait_24h"},
          {"id":"wait_24h","kind":"wait","duration":"24h","next":"reminder_discount"},
          {"id":"reminder_discount","kind":"send","template":"cart-reminder-discount","class":"marketing",
           "data":{"discount_code":"COMEBACK10"}}]})"),
      {T("cart-reminder", "You left something in your cart",
         "Vous avez oublié quelque chose dans votre panier",
         fmt::format(
             "<h1>Still thinking it over, {}?</h1><p>Your cart {{{{ data.entry.cart_id }}}} is saved.</p>",
             kName),
         "<h1>Vous hésitez encore ?</h1><p>Votre panier {{ data.entry.cart_id }} vous attend.</p>",
         "{{ data.entry.cart_url | default: '#' }}", "Back to my cart", "Retour au panier"),
       T("cart-reminder-discount", "10% off what is in your cart", "10 % de remise sur votre panier",
         "<h1>A little nudge</h1><p>Use code <strong>{{ data.discount_code }}</strong> for 10% off.</p>",
         "<h1>Un petit coup de pouce</h1><p>Code <strong>{{ data.discount_code }}</strong> : 10 % de "
         "remise.</p>",
         "{{ data.entry.cart_url | default: '#' }}", "Finish my order", "Finaliser ma commande")}});
  out.push_back(
      Recipe{"order_confirmation",
             "A confirmation as soon as an order is placed.",
             Doc(R"({"name":"order_confirmation","trigger":{"type":"event","event":"order_placed"},
        "entry":{"key":"order_id","reentry":"always"},
        "steps":[{"id":"confirm","kind":"send","template":"order-confirmed","class":"transactional"}]})"),
             {T("order-confirmed", "Order {{ data.entry.order_id }} confirmed",
                "Commande {{ data.entry.order_id }} confirmée",
                "<h1>Thank you!</h1><p>We received order <strong>{{ data.entry.order_id }}</strong>"
                "{% if data.entry.total %} ({{ data.entry.total }}){% endif %}.</p>",
                "<h1>Merci !</h1><p>Nous avons reçu la commande <strong>{{ data.entry.order_id }}</strong>"
                "{% if data.entry.total %} ({{ data.entry.total }}){% endif %}.</p>")}});
  out.push_back(
      Recipe{"shipping_notice",
             "The tracking number and link when an order ships.",
             Doc(R"({"name":"shipping_notice","trigger":{"type":"event","event":"order_shipped"},
        "entry":{"key":"order_id","reentry":"always"},
        "steps":[{"id":"notify","kind":"send","template":"shipping-notice","class":"transactional"}]})"),
             {T("shipping-notice", "Your order is on its way", "Votre commande est en route",
                "<p>Order {{ data.entry.order_id }} has shipped. Tracking number: <strong>{{ "
                "data.entry.tracking_number "
                "}}</strong>.</p>",
                "<p>La commande {{ data.entry.order_id }} est partie. Numéro de suivi : <strong>{{ "
                "data.entry.tracking_number }}</strong>.</p>",
                "{{ data.entry.tracking_url | default: '#' }}", "Track my parcel", "Suivre mon colis")}});
  out.push_back(Recipe{
      "re_engagement",
      "After 60 days without an open or click: two attempts, then lifecycle lapsed.",
      Doc(R"({"name":"re_engagement","trigger":{"type":"inactivity","days":60},
        "entry":{"reentry":"cooldown","cooldown":"90d"},
        "steps":[
          {"id":"nudge_1","kind":"send","template":"reengage-1","class":"marketing","next":"wait_1"},
          {"id":"wait_1","kind":"wait","duration":"7d","next":"opened_1"},
          {"id":"opened_1","kind":"branch","if":{"opened":true},"then":"back","else":"nudge_2"},
          {"id":"nudge_2","kind":"send","template":"reengage-2","class":"marketing","next":"wait_2"},
          {"id":"wait_2","kind":"wait","duration":"7d","next":"opened_2"},
          {"id":"opened_2","kind":"branch","if":{"opened":true},"then":"back","else":"lapsed"},
          {"id":"lapsed","kind":"update","attributes":{"lifecycle":"lapsed"}},
          {"id":"back","kind":"update","attributes":{"lifecycle":"active"}}]})"),
      {T("reengage-1", "We miss you", "Vous nous manquez", "<p>It has been a while. Here is what is new.</p>",
         "<p>Cela fait un moment. Voici les nouveautés.</p>"),
       T("reengage-2", "Still interested?", "Toujours intéressé ?",
         "<p>Tell us if you still want to hear from us.</p>",
         "<p>Dites-nous si vous souhaitez toujours recevoir nos nouvelles.</p>")}});
  out.push_back(Recipe{
      "birthday",
      "A greeting on the contact's birthday at 09:00 in their timezone, every year.",
      Doc(R"({"name":"birthday","trigger":{"type":"anniversary","attribute":"birthday","at":"09:00"},
        "entry":{"reentry":"cooldown","cooldown":"300d"},
        "steps":[{"id":"greet","kind":"send","template":"birthday","class":"marketing"}]})"),
      {T("birthday", "Happy birthday!", "Joyeux anniversaire !",
         fmt::format("<h1>Happy birthday, {}!</h1><p>A little gift from us: free shipping this week.</p>",
                     kName),
         fmt::format(
             "<h1>Joyeux anniversaire {} !</h1><p>Un petit cadeau : livraison offerte cette semaine.</p>",
             kNom))}});
  out.push_back(Recipe{
      "signup_anniversary",
      "A thank-you on the anniversary of sign-up at 09:00 local time.",
      Doc(R"({"name":"signup_anniversary","trigger":{"type":"anniversary","attribute":"created_at","at":"09:00"},
        "entry":{"reentry":"cooldown","cooldown":"300d"},
        "steps":[{"id":"thank","kind":"send","template":"signup-anniversary","class":"marketing"}]})"),
      {T("signup-anniversary", "One more year together", "Une année de plus ensemble",
         "<p>Thank you for being with us.</p>", "<p>Merci de votre fidélité.</p>")}});
  out.push_back(Recipe{
      "password_reset",
      "The reset link at once: transactional, never delayed by marketing rules.",
      Doc(R"({"name":"password_reset","trigger":{"type":"event","event":"password_reset_requested"},
        "entry":{"reentry":"always"},
        "steps":[{"id":"link","kind":"send","template":"password-reset","class":"transactional"}]})"),
      {T("password-reset", "Reset your password", "Réinitialiser votre mot de passe",
         "<p>Someone asked to reset your password. If it was not you, ignore this email.</p>",
         "<p>Une demande de réinitialisation a été faite. Si ce n'est pas vous, ignorez ce message.</p>",
         "{{ data.entry.reset_url }}", "Choose a new password", "Choisir un nouveau mot de passe")}});
  out.push_back(
      Recipe{"review_request",
             "Asks for a review a week after the order is delivered.",
             Doc(R"({"name":"review_request","trigger":{"type":"event","event":"order_delivered"},
        "entry":{"key":"order_id","reentry":"always"},
        "steps":[
          {"id":"wait_7d","kind":"wait","duration":"7d","next":"ask"},
          {"id":"ask","kind":"send","template":"review-request","class":"marketing"}]})"),
             {T("review-request", "How was your order?", "Votre commande vous a-t-elle plu ?",
                "<p>Tell us what you think of order {{ data.entry.order_id }}.</p>",
                "<p>Dites-nous ce que vous pensez de la commande {{ data.entry.order_id }}.</p>",
                "{{ data.entry.review_url | default: '#' }}", "Write a review", "Donner mon avis")}});
  return out;
}

}  // namespace

const std::vector<Recipe>& Recipes() {
  static const std::vector<Recipe> recipes = Build();
  return recipes;
}

const Recipe* FindRecipe(std::string_view name) {
  for (const Recipe& r : Recipes())
    if (r.name == name) return &r;
  return nullptr;
}

Result<InstalledRecipe> InstallRecipe(JourneyService& journeys, WorkspaceId ws, std::string_view name,
                                      const json::object& options) {
  const Recipe* recipe = FindRecipe(name);
  if (!recipe) {
    std::vector<std::string_view> names;
    for (const Recipe& r : Recipes()) names.push_back(r.name);
    return Error::NotFound(fmt::format("no recipe '{}'; known: {}", name, fmt::join(names, ", ")));
  }
  json::value doc = recipe->document;
  bool activate = true;
  for (const auto& [k, v] : options) {
    if (k == "name") {
      if (!v.is_string()) return Error::Invalid("name", "name is a string");
      doc.get_object()["name"] = v;
    } else if (k == "activate") {
      if (!v.is_bool()) return Error::Invalid("activate", "activate is true or false");
      activate = v.get_bool();
    } else if (k == "steps") {
      if (!v.is_object()) return Error::Invalid("steps", "steps is an object of step id -> fields");
      for (const auto& [id, fields] : v.get_object()) {
        std::string path = fmt::format("steps.{}", std::string_view(id));
        if (!fields.is_object()) return Error::Invalid(path, "the fields to change, as an object");
        bool found = false;
        for (json::value& step : doc.get_object()["steps"].get_array()) {
          if (step.get_object()["id"] != json::value(id)) continue;
          found = true;
          for (const auto& [f, x] : fields.get_object()) {
            if (f == "id" || f == "kind")
              return Error::Invalid(path + "." + std::string(f), "id and kind stay");
            step.get_object()[f] = x;
          }
        }
        if (!found)
          return Error::Invalid(path, fmt::format("the recipe has no step '{}'", std::string_view(id)));
      }
    } else {
      return Error::Invalid(std::string(k), fmt::format("unknown option '{}'", std::string_view(k)));
    }
  }
  InstalledRecipe out;
  Store& store = journeys.store();
  for (const RecipeTemplate& t : recipe->templates) {
    if (store.templates().GetByName(ws, t.name).ok()) continue;
    MessageTemplate tpl;
    tpl.workspace_id = ws;
    tpl.name = t.name;
    tpl.subject = t.subject;
    tpl.html = t.html;
    tpl.text = t.text;
    auto created = store.templates().Create(tpl);
    if (!created.ok() && created.error().code != ErrorCode::kConflict) return created.error();
    if (created.ok()) out.templates_created.push_back(t.name);
  }
  RAPPORT_ASSIGN_OR_RETURN(out.journey, journeys.Create(ws, doc));
  if (activate) {
    RAPPORT_ASSIGN_OR_RETURN(out.journey, journeys.Activate(ws, out.journey.id));
  }
  return out;
}

}  // namespace rapport::automation
