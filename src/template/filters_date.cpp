// The date filter: ruby-liquid's input rules (Utils.to_date: "now"/"today", Unix seconds,
// parsed date strings) and a strftime with Ruby's flags, in the render's IANA time zone
// (HowardHinnant date/tz) with month and day names in the render's locale (en, fr, de, es).
#include <chrono>
#include <cstdio>
#include <string>

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include "template/filter_registry.h"
#include "template/filter_util.h"
#include "template/template.h"

namespace rapport::liquid {

namespace {

using R = Result<Value>;
using Seconds = std::chrono::sys_seconds;

struct LocaleNames {
  const char* months[12];
  const char* months_abbr[12];
  const char* days[7];
  const char* days_abbr[7];
};

const LocaleNames kEnglish = {
    {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"},
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
    {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
    {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}};
const LocaleNames kFrench = {
    {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
     "novembre", "décembre"},
    {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
    {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
    {"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}};
const LocaleNames kGerman = {
    {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
     "November", "Dezember"},
    {"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."},
    {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
    {"So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."}};
const LocaleNames kSpanish = {
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
     "noviembre", "diciembre"},
    {"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
    {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
    {"dom", "lun", "mar", "mié", "jue", "vie", "sáb"}};

const LocaleNames& NamesFor(std::string_view locale) {
  std::string_view lang = locale.substr(0, 2);
  if (lang == "fr") return kFrench;
  if (lang == "de") return kGerman;
  if (lang == "es") return kSpanish;
  return kEnglish;
}

// A point in time with the offset and zone name it is shown in.
struct ZonedTime {
  Seconds utc;
  int64_t nanos = 0;
  int offset = 0;  // seconds east of UTC
  std::string abbrev;
};

Result<const date::time_zone*> Zone(const std::string& name) {
  thread_local std::string cached_name;
  thread_local const date::time_zone* cached = nullptr;
  if (cached != nullptr && cached_name == name) return cached;
  try {
    cached = date::locate_zone(name);
    cached_name = name;
    return cached;
  } catch (const std::exception&) {
    return FilterError("unknown time zone '" + name + "'");
  }
}

Result<ZonedTime> InZone(Seconds utc, int64_t nanos, const std::string& tz_name) {
  RAPPORT_ASSIGN_OR_RETURN(const date::time_zone* tz, Zone(tz_name));
  date::sys_info info = tz->get_info(utc);
  ZonedTime z;
  z.utc = utc;
  z.nanos = nanos;
  z.offset = static_cast<int>(info.offset.count());
  z.abbrev = info.abbrev;
  return z;
}

// Local wall time -> UTC in the zone (the earlier of ambiguous times, shifted over gaps).
Result<Seconds> FromLocal(date::local_seconds local, const std::string& tz_name) {
  RAPPORT_ASSIGN_OR_RETURN(const date::time_zone* tz, Zone(tz_name));
  date::local_info info = tz->get_info(local);
  if (info.result == date::local_info::nonexistent) {
    return Seconds(local.time_since_epoch() - info.first.offset);
  }
  return Seconds(local.time_since_epoch() - info.first.offset);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int MonthFromName(std::string_view w) {
  static const char* kNames[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
  if (w.size() < 3) return 0;
  std::string lower;
  for (char c : w) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 12; ++i) {
    if (lower.compare(0, 3, kNames[i]) == 0) return i + 1;
  }
  return 0;
}

struct Parsed {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  bool has_offset = false;
  int offset = 0;
};

// Reads "HH:MM[:SS[.frac]]" at s[i].
bool ParseClock(std::string_view s, size_t& i, Parsed& p) {
  auto num = [&](int* out, size_t max_digits) {
    size_t b = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i]) && i - b < max_digits) v = v * 10 + (s[i++] - '0');
    *out = v;
    return i > b;
  };
  if (!num(&p.hour, 2) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!num(&p.minute, 2)) return false;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!num(&p.second, 2)) return false;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      int64_t scale = 100000000;
      while (i < s.size() && IsDigit(s[i])) {
        p.nanos += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
    }
  }
  while (i < s.size() && s[i] == ' ') ++i;
  if (i + 1 < s.size() && (s[i] == 'a' || s[i] == 'A' || s[i] == 'p' || s[i] == 'P') &&
      (s[i + 1] == 'm' || s[i + 1] == 'M')) {
    bool pm = s[i] == 'p' || s[i] == 'P';
    if (p.hour == 12) p.hour = 0;
    if (pm) p.hour += 12;
    i += 2;
  }
  return p.hour < 24 && p.minute < 60 && p.second < 61;
}

// Zone suffix: Z, UTC, GMT, +HH:MM, +HHMM, +HH.
void ParseOffset(std::string_view s, size_t& i, Parsed& p) {
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size()) return;
  if (s[i] == 'Z' || s[i] == 'z') {
    p.has_offset = true;
    p.offset = 0;
    ++i;
    return;
  }
  if (s.substr(i, 3) == "UTC" || s.substr(i, 3) == "GMT") {
    p.has_offset = true;
    p.offset = 0;
    i += 3;
    if (i >= s.size()) return;
  }
  if (s[i] == '+' || s[i] == '-') {
    int sign = s[i] == '-' ? -1 : 1;
    size_t j = i + 1;
    int digits[4];
    int n = 0;
    while (j < s.size() && n < 4 && (IsDigit(s[j]) || (s[j] == ':' && n == 2))) {
      if (s[j] != ':') digits[n++] = s[j] - '0';
      ++j;
    }
    if (n == 2 || n == 4) {
      int hh = digits[0] * 10 + digits[1];
      int mm = n == 4 ? digits[2] * 10 + digits[3] : 0;
      p.has_offset = true;
      p.offset = sign * (hh * 3600 + mm * 60);
      i = j;
    }
  }
}

// The subset of Ruby's Time.parse that templates use: ISO 8601 dates and date-times,
// "YYYY/MM/DD", "Month D, YYYY", "D Month YYYY", RFC 2822 ("Tue, 10 Jan 2023 10:00:00 +0000").
bool ParseDateString(std::string_view s, Parsed& p) {
  while (!s.empty() && IsRubySpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsRubySpace(s.back())) s.remove_suffix(1);
  size_t i = 0;
  // Optional weekday name.
  if (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])) && MonthFromName(s.substr(i, 3)) == 0) {
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == ',') ++i;
    while (i < s.size() && s[i] == ' ') ++i;
  }
  auto read_int = [&](int* out, size_t* len) {
    size_t b = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i]) && i - b < 9) v = v * 10 + (s[i++] - '0');
    *out = v;
    *len = i - b;
    return i > b;
  };
  int a;
  size_t alen;
  if (i < s.size() && IsDigit(s[i])) {
    read_int(&a, &alen);
    if (alen == 4 && i < s.size() && (s[i] == '-' || s[i] == '/')) {
      char sep = s[i++];
      size_t l;
      if (!read_int(&p.month, &l) || i >= s.size() || s[i] != sep) return false;
      ++i;
      if (!read_int(&p.day, &l)) return false;
      p.year = a;
    } else if (alen <= 2 && i < s.size() && s[i] == ' ') {
      // D Month YYYY
      ++i;
      size_t b = i;
      while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
      p.month = MonthFromName(s.substr(b, i - b));
      if (p.month == 0) return false;
      while (i < s.size() && s[i] == ' ') ++i;
      size_t l;
      if (!read_int(&p.year, &l) || l != 4) return false;
      p.day = a;
    } else {
      return false;
    }
  } else {
    // Month D, YYYY
    size_t b = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    p.month = MonthFromName(s.substr(b, i - b));
    if (p.month == 0) return false;
    while (i < s.size() && (s[i] == ' ' || s[i] == '.')) ++i;
    size_t l;
    if (!read_int(&p.day, &l)) return false;
    if (i < s.size() && s[i] == ',') ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    if (!read_int(&p.year, &l) || l != 4) return false;
  }
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    size_t save = i;
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && IsDigit(s[i])) {
      if (!ParseClock(s, i, p)) return false;
    } else {
      i = save;
    }
  }
  ParseOffset(s, i, p);
  while (i < s.size() && s[i] == ' ') ++i;
  if (i != s.size()) return false;
  return p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= 31;
}

// Unix seconds beyond about ±6000 years are left as they are (like unparsable input).
constexpr int64_t kMaxUnixSeconds = 200000000000;

Result<bool> ToTime(FilterContext& ctx, const Value& in, ZonedTime* out) {
  const std::string& tz = ctx.options.timezone;
  if (in.is_int()) {
    if (in.as_int() > kMaxUnixSeconds || in.as_int() < -kMaxUnixSeconds) return false;
    RAPPORT_ASSIGN_OR_RETURN(*out, InZone(Seconds(std::chrono::seconds(in.as_int())), 0, tz));
    return true;
  }
  if (!in.is_string()) return false;
  std::string_view s = in.as_string();
  if (s.empty()) return false;
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "now" || lower == "today") {
    auto us = ctx.options.now.time_since_epoch();
    auto secs = std::chrono::floor<std::chrono::seconds>(us);
    RAPPORT_ASSIGN_OR_RETURN(*out, InZone(Seconds(secs), (us - secs).count() * 1000, tz));
    return true;
  }
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && IsDigit(c);
  if (all_digits) {
    if (s.size() > 15) return false;
    int64_t v = std::stoll(std::string(s));
    if (v > kMaxUnixSeconds) return false;
    RAPPORT_ASSIGN_OR_RETURN(*out, InZone(Seconds(std::chrono::seconds(v)), 0, tz));
    return true;
  }
  Parsed p;
  if (!ParseDateString(s, p)) return false;
  // Days past the month's end roll over, like Ruby's Time.local (Feb 30 -> Mar 1).
  date::local_seconds local = date::local_days{date::year{p.year} / p.month / 1} + date::days{p.day - 1} +
                              std::chrono::hours(p.hour) + std::chrono::minutes(p.minute) +
                              std::chrono::seconds(p.second);
  Seconds utc;
  if (p.has_offset) {
    utc = Seconds(local.time_since_epoch() - std::chrono::seconds(p.offset));
  } else {
    RAPPORT_ASSIGN_OR_RETURN(utc, FromLocal(local, tz));
  }
  RAPPORT_ASSIGN_OR_RETURN(*out, InZone(utc, p.nanos, tz));
  return true;
}

void Pad(std::string& out, int64_t v, int width, char pad) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  if (v < 0) out += '-';
  if (pad != 0) {
    for (int k = static_cast<int>(digits.size()) + (v < 0); k < width; ++k) out += pad;
  }
  out += digits;
}

void Upper(std::string& s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

void Strftime(std::string& out, std::string_view fmt, const ZonedTime& t, const LocaleNames& names) {
  auto local = date::local_seconds((t.utc + std::chrono::seconds(t.offset)).time_since_epoch());
  auto days = date::floor<date::days>(local);
  date::year_month_day ymd{days};
  date::hh_mm_ss<std::chrono::seconds> hms{local - days};
  int year = static_cast<int>(ymd.year());
  int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  int day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  int hour = static_cast<int>(hms.hours().count());
  int minute = static_cast<int>(hms.minutes().count());
  int second = static_cast<int>(hms.seconds().count());
  int wday = static_cast<int>(date::weekday{days}.c_encoding());
  int yday = (days - date::local_days{ymd.year() / 1 / 1}).count() + 1;
  iso_week::year_weeknum_weekday iso{date::sys_days(days.time_since_epoch())};

  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out += fmt[i];
      continue;
    }
    size_t start = i;
    ++i;
    char pad = 0;  // 0: default
    bool upper = false, swap = false, colon = false;
    while (i < fmt.size() && (fmt[i] == '-' || fmt[i] == '_' || fmt[i] == '0' || fmt[i] == '^' ||
                              fmt[i] == '#' || fmt[i] == ':')) {
      if (fmt[i] == '-')
        pad = '-';
      else if (fmt[i] == '_')
        pad = ' ';
      else if (fmt[i] == '0')
        pad = '0';
      else if (fmt[i] == '^')
        upper = true;
      else if (fmt[i] == '#')
        swap = true;
      else
        colon = true;
      ++i;
    }
    int width = -1;
    while (i < fmt.size() && IsDigit(fmt[i])) {
      width = (width < 0 ? 0 : width * 10) + (fmt[i] - '0');
      if (width > 1024) width = 1024;
      ++i;
    }
    if (i >= fmt.size()) {
      out.append(fmt.substr(start));
      break;
    }
    char c = fmt[i];
    auto num = [&](int64_t v, int def_width, char def_pad) {
      char p = pad == 0 ? def_pad : (pad == '-' ? 0 : pad);
      int w = width >= 0 ? width : def_width;
      Pad(out, v, p == 0 ? 0 : w, p);
    };
    auto text = [&](std::string s) {
      if (upper || swap) Upper(s);
      if (width > 0) {
        int len = static_cast<int>(CharCount(s));
        for (int k = len; k < width; ++k) out += (pad == '0' ? '0' : ' ');
      }
      out += s;
    };
    switch (c) {
      case 'Y': num(year, 0, '0'); break;
      case 'C': num(year / 100, 2, '0'); break;
      case 'y': num(year % 100, 2, '0'); break;
      case 'm': num(month, 2, '0'); break;
      case 'd': num(day, 2, '0'); break;
      case 'e': num(day, 2, ' '); break;
      case 'j': num(yday, 3, '0'); break;
      case 'H': num(hour, 2, '0'); break;
      case 'k': num(hour, 2, ' '); break;
      case 'I': num(hour % 12 == 0 ? 12 : hour % 12, 2, '0'); break;
      case 'l': num(hour % 12 == 0 ? 12 : hour % 12, 2, ' '); break;
      case 'M': num(minute, 2, '0'); break;
      case 'S': num(second, 2, '0'); break;
      case 'L': {
        int w = width > 0 ? width : 3;
        std::string ns = std::to_string(t.nanos);
        ns = std::string(9 - ns.size(), '0') + ns;
        while (static_cast<int>(ns.size()) < w) ns += '0';
        out += ns.substr(0, w);
        break;
      }
      case 'N': {
        int w = width > 0 ? width : 9;
        std::string ns = std::to_string(t.nanos);
        ns = std::string(9 - ns.size(), '0') + ns;
        while (static_cast<int>(ns.size()) < w) ns += '0';
        out += ns.substr(0, w);
        break;
      }
      case 'B': text(names.months[month - 1]); break;
      case 'b':
      case 'h': text(names.months_abbr[month - 1]); break;
      case 'A': text(names.days[wday]); break;
      case 'a': text(names.days_abbr[wday]); break;
      case 'p': {
        std::string s = hour < 12 ? "AM" : "PM";
        if (swap) {
          s = hour < 12 ? "am" : "pm";
          swap = false;
        }
        text(s);
        break;
      }
      case 'P': text(hour < 12 ? "am" : "pm"); break;
      case 'u': num(wday == 0 ? 7 : wday, 1, '0'); break;
      case 'w': num(wday, 1, '0'); break;
      case 'U': num((yday + 6 - wday) / 7, 2, '0'); break;
      case 'W': num((yday + 6 - (wday + 6) % 7) / 7, 2, '0'); break;
      case 'G': num(static_cast<int>(iso.year()), 0, '0'); break;
      case 'g': num(static_cast<int>(iso.year()) % 100, 2, '0'); break;
      case 'V': num(static_cast<unsigned>(iso.weeknum()), 2, '0'); break;
      case 's': num(t.utc.time_since_epoch().count(), 0, '0'); break;
      case 'Z': text(t.abbrev); break;
      case 'z': {
        int off = t.offset;
        out += off < 0 ? '-' : '+';
        if (off < 0) off = -off;
        Pad(out, off / 3600, 2, '0');
        if (colon) out += ':';
        Pad(out, (off % 3600) / 60, 2, '0');
        break;
      }
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '%': out += '%'; break;
      case 'F': Strftime(out, "%Y-%m-%d", t, names); break;
      case 'T':
      case 'X': Strftime(out, "%H:%M:%S", t, names); break;
      case 'D':
      case 'x': Strftime(out, "%m/%d/%y", t, names); break;
      case 'R': Strftime(out, "%H:%M", t, names); break;
      case 'r': Strftime(out, "%I:%M:%S %p", t, names); break;
      case 'c': Strftime(out, "%a %b %e %H:%M:%S %Y", t, names); break;
      case 'v': Strftime(out, "%e-%^b-%Y", t, names); break;
      case '+': Strftime(out, "%a %b %e %H:%M:%S %Z %Y", t, names); break;
      default: out.append(fmt.substr(start, i - start + 1)); break;
    }
  }
}

R Date(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string_view fmt = AsText(ctx, a[0]);
  if (fmt.empty()) return in;
  ZonedTime t;
  RAPPORT_ASSIGN_OR_RETURN(bool ok, ToTime(ctx, in, &t));
  if (!ok) return in;
  ctx.scratch.clear();
  Strftime(ctx.scratch, fmt, t, NamesFor(ctx.options.locale));
  return MakeString(ctx, ctx.scratch);
}

}  // namespace

void RegisterDateFilters(FilterRegistry& r) { r.Register("date", Date, 1, 1); }

}  // namespace rapport::liquid
