// money: formats an amount in a currency for a locale, e.g. {{ 12.5 | money: "EUR", "fr" }}
// -> "12,50 €" (with a no-break space), {{ 1234.5 | money: "USD" }} -> "$1,234.50".
// The locale defaults to the render's; the currency to USD. Rounds half away from zero.
#include <cmath>
#include <string>

#include "template/filter_registry.h"
#include "template/filter_util.h"
#include "template/number.h"
#include "template/template.h"

namespace rapport::liquid {

namespace {

using R = Result<Value>;

constexpr const char* kNbsp = "\xC2\xA0";            // U+00A0
constexpr const char* kNarrowNbsp = "\xE2\x80\xAF";  // U+202F

struct LocaleFormat {
  const char* group;
  const char* decimal;
  bool symbol_after;  // "12,50 €" vs "$12.50"
  int min_grouping;   // digits before the first group separator appears (es: 5)
};

LocaleFormat FormatFor(std::string_view lang) {
  if (lang == "fr") return {kNarrowNbsp, ",", true, 4};
  if (lang == "de") return {".", ",", true, 4};
  if (lang == "es") return {".", ",", true, 5};
  return {",", ".", false, 4};
}

std::string SymbolFor(std::string_view code, std::string_view lang) {
  if (code == "EUR") return "€";
  if (code == "GBP") return "£";
  if (code == "JPY") return lang == "en" ? "¥" : "JPY";
  if (code == "USD") {
    if (lang == "en") return "$";
    if (lang == "fr") return "$US";
    if (lang == "es") return "US$";
    return "$";
  }
  if (code == "CAD") return lang == "fr" ? "$CA" : "CA$";
  if (code == "AUD") return lang == "fr" ? "$AU" : "A$";
  return std::string(code);
}

int DecimalsFor(std::string_view code) {
  if (code == "JPY" || code == "KRW" || code == "CLP" || code == "ISK") return 0;
  return 2;
}

R Money(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string code = "USD";
  if (a.count > 0 && !a[0].is_nil()) code = std::string(AsText(ctx, a[0]));
  for (char& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (code.size() != 3) return FilterError("money: invalid currency code '" + code + "'");
  std::string lang = a.count > 1 && !a[1].is_nil() ? std::string(AsText(ctx, a[1])) : ctx.options.locale;
  lang = lang.substr(0, 2);
  for (char& c : lang) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int decimals = DecimalsFor(code);
  Number n = Round(ToNumber(in), decimals);
  if (n.kind == Number::Kind::kDouble && !std::isfinite(n.d)) {
    return FilterError("money: amount is not a finite number");
  }
  // Exact digits of |n| scaled by 10^decimals.
  __int128 scaled;
  if (n.kind == Number::Kind::kInt) {
    scaled = n.i;
    for (int k = 0; k < decimals; ++k) scaled *= 10;
  } else if (n.kind == Number::Kind::kDecimal) {
    scaled = n.m;
    for (int k = n.scale; k < decimals; ++k) scaled *= 10;
  } else {
    double p = 1;
    for (int k = 0; k < decimals; ++k) p *= 10;
    double v = std::round(n.d * p);
    if (std::fabs(v) > 9e18) return FilterError("money: amount too large");
    scaled = static_cast<__int128>(v);
  }
  bool negative = scaled < 0;
  if (negative) scaled = -scaled;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(scaled % 10)));
    scaled /= 10;
  } while (scaled > 0);
  while (static_cast<int>(digits.size()) <= decimals) digits.insert(digits.begin(), '0');
  std::string int_part = digits.substr(0, digits.size() - decimals);
  std::string frac = digits.substr(digits.size() - decimals);
  LocaleFormat f = FormatFor(lang);
  std::string grouped;
  bool group = static_cast<int>(int_part.size()) >= f.min_grouping;
  for (size_t i = 0; i < int_part.size(); ++i) {
    if (group && i > 0 && (int_part.size() - i) % 3 == 0) grouped += f.group;
    grouped += int_part[i];
  }
  std::string amount = grouped;
  if (decimals > 0) {
    amount += f.decimal;
    amount += frac;
  }
  std::string symbol = SymbolFor(code, lang);
  std::string& out = ctx.scratch;
  out.clear();
  if (negative) out += '-';
  if (f.symbol_after) {
    out += amount;
    out += kNbsp;
    out += symbol;
  } else {
    out += symbol;
    if (symbol.size() == 3 && symbol == code) out += kNbsp;
    out += amount;
  }
  return MakeString(ctx, out);
}

}  // namespace

void RegisterMoneyFilters(FilterRegistry& r) { r.Register("money", Money, 0, 2); }

}  // namespace rapport::liquid
