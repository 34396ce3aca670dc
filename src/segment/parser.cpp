#include "segment/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace rapport::segment {

namespace {

struct Failure {
  ParseError error;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool IsUnit(const std::string& w) {
  static const char* kUnits[] = {"minute", "minutes", "hour", "hours", "day", "days", "week", "weeks"};
  return std::any_of(std::begin(kUnits), std::end(kUnits), [&](const char* u) { return w == u; });
}

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens) : source_(source), t_(std::move(tokens)) {}

  ExprPtr Run() {
    ExprPtr e = Or(0);
    if (Peek().kind != Token::Kind::kEnd) {
      if (Peek().kind == Token::Kind::kRParen)
        Fail(Peek().pos, "a ')' closes nothing", "remove it or add '(' before");
      Fail(Peek().pos, fmt::format("expected 'and', 'or' or the end, found {}", Describe(Peek())),
           "join predicates with 'and' or 'or'");
    }
    return e;
  }

 private:
  [[noreturn]] void Fail(Position pos, std::string message, std::string hint = {}) {
    throw Failure{ParseError{pos, std::move(message), std::move(hint)}};
  }

  const Token& Peek(size_t ahead = 0) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  const Token& Next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  bool IsWord(const Token& t, std::string_view w) const {
    return t.kind == Token::Kind::kIdent && Lower(t.text) == w;
  }
  bool PeekWord(std::string_view w, size_t ahead = 0) const { return IsWord(Peek(ahead), w); }
  bool AcceptWord(std::string_view w) {
    if (!PeekWord(w)) return false;
    Next();
    return true;
  }
  void ExpectWord(std::string_view w, std::string_view hint = {}) {
    if (!AcceptWord(w))
      Fail(Peek().pos, fmt::format("expected '{}', found {}", w, Describe(Peek())), std::string(hint));
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Token::Kind::kEnd: return "the end";
      case Token::Kind::kString: return fmt::format("\"{}\"", t.text);
      default: return fmt::format("'{}'", t.text);
    }
  }

  std::string Source(Position from) const {
    size_t end = i_ > 0 ? t_[i_ - 1].pos.offset : from.offset;
    // The previous token's end: its start plus its length in the source (strings were unescaped).
    if (i_ > 0) {
      const Token& last = t_[i_ - 1];
      size_t j = last.pos.offset;
      if (last.kind == Token::Kind::kString) {
        char q = source_[j];
        ++j;
        while (j < source_.size() && source_[j] != q) j += source_[j] == '\\' ? 2 : 1;
        end = std::min(j + 1, source_.size());
      } else {
        end = j + last.text.size();
        if (last.kind == Token::Kind::kOp) {
          // "==" and "<>" were normalized; take the operator's characters as written.
          end = j;
          while (end < source_.size() &&
                 std::string_view("=<>!").find(source_[end]) != std::string_view::npos)
            ++end;
        }
      }
    }
    if (end < from.offset) return {};
    return std::string(source_.substr(from.offset, std::min(end, source_.size()) - from.offset));
  }

  ExprPtr Or(int depth) {
    ExprPtr left = And(depth);
    if (!PeekWord("or")) return left;
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kOr;
    e->pos = left->pos;
    e->children.push_back(std::move(left));
    while (AcceptWord("or")) e->children.push_back(And(depth));
    return e;
  }

  ExprPtr And(int depth) {
    ExprPtr left = Not(depth);
    if (!PeekWord("and")) return left;
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kAnd;
    e->pos = left->pos;
    e->children.push_back(std::move(left));
    while (AcceptWord("and")) e->children.push_back(Not(depth));
    return e;
  }

  ExprPtr Not(int depth) {
    if (depth > kMaxNesting) Fail(Peek().pos, fmt::format("nested deeper than {} levels", kMaxNesting));
    if (PeekWord("not")) {
      Position pos = Next().pos;
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kNot;
      e->pos = pos;
      e->children.push_back(Not(depth + 1));
      return e;
    }
    if (Peek().kind == Token::Kind::kLParen) {
      Position pos = Next().pos;
      ExprPtr inner = Or(depth + 1);
      if (Peek().kind != Token::Kind::kRParen)
        Fail(Peek().pos, fmt::format("expected ')' to close the '(' at line {}, column {}, found {}",
                                     pos.line, pos.column, Describe(Peek())));
      Next();
      return inner;
    }
    Position start = Peek().pos;
    ExprPtr p = Predicate();
    p->source = Source(start);
    return p;
  }

  ExprPtr Predicate() {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kEnd)
      Fail(t.pos, "expected a condition, found the end", "e.g. city = \"Paris\"");
    if (t.kind != Token::Kind::kIdent)
      Fail(t.pos, fmt::format("expected a condition, found {}", Describe(t)),
           "a condition starts with a field, an event measure or a keyword; see docs/segments.md");
    std::string w = Lower(t.text);
    auto e = std::make_unique<Expr>();
    e->pos = t.pos;
    if (w == "subscribed" && PeekWord("to", 1)) {
      Next();
      Next();
      e->kind = Expr::Kind::kTopic;
      e->name = Name("a topic key");
      return e;
    }
    if (w == "in" && PeekWord("segment", 1)) {
      Next();
      Next();
      e->kind = Expr::Kind::kSegment;
      e->name = Name("a segment name");
      return e;
    }
    if ((w == "at" && (PeekWord("least", 1) || PeekWord("most", 1))) ||
        (w == "exactly" && Peek(1).kind == Token::Kind::kNumber) ||
        (w == "no" && Peek(1).kind != Token::Kind::kOp) || (w == "any" && Peek(1).kind != Token::Kind::kOp)) {
      e->kind = Expr::Kind::kBehavior;
      Behavior& b = e->behavior;
      b.pos = t.pos;
      b.measure = Behavior::Measure::kCount;
      Next();
      if (w == "at") {
        bool least = Lower(Next().text) == "least";
        b.op = least ? CmpOp::kGe : CmpOp::kLe;
        b.value = static_cast<double>(Count());
      } else if (w == "exactly") {
        b.op = CmpOp::kEq;
        b.value = static_cast<double>(Count());
      } else if (w == "no") {
        b.op = CmpOp::kEq;
        b.value = 0;
      } else {
        b.op = CmpOp::kGe;
        b.value = 1;
      }
      EventTail(b, true);
      return e;
    }
    if ((w == "count" && PeekWord("of", 1)) ||
        ((w == "sum" || w == "min" || w == "max" || w == "last") && Peek(1).kind == Token::Kind::kLParen)) {
      e->kind = Expr::Kind::kBehavior;
      Behavior& b = e->behavior;
      b.pos = t.pos;
      Next();
      if (w == "count") {
        b.measure = Behavior::Measure::kCount;
      } else {
        b.measure = w == "sum"   ? Behavior::Measure::kSum
                    : w == "min" ? Behavior::Measure::kMin
                    : w == "max" ? Behavior::Measure::kMax
                                 : Behavior::Measure::kLastValue;
        Next();  // (
        b.property = Name("an event property");
        if (Peek().kind != Token::Kind::kRParen)
          Fail(Peek().pos, fmt::format("expected ')', found {}", Describe(Peek())));
        Next();
      }
      if (w != "count")
        ExpectWord("of", "write e.g. sum(total) of order_placed > 100");
      else
        Next();  // of
      EventTail(b, true);
      if (Peek().kind != Token::Kind::kOp)
        Fail(Peek().pos,
             fmt::format("expected a comparison (>=, >, =, ...) after the event, found {}", Describe(Peek())),
             "e.g. count of order_placed in the last 90 days >= 2");
      b.op = Op(Next());
      if (Peek().kind != Token::Kind::kNumber)
        Fail(Peek().pos, fmt::format("expected a number, found {}", Describe(Peek())));
      b.value = Number(Next());
      return e;
    }
    if ((w == "first" || w == "last") && Peek(1).kind != Token::Kind::kOp && !PeekWord("in", 1) &&
        !PeekWord("within", 1) && !PeekWord("is", 1) && !PeekWord("exists", 1) && !PeekWord("exactly", 1)) {
      e->kind = Expr::Kind::kBehavior;
      Behavior& b = e->behavior;
      b.pos = t.pos;
      Next();
      b.measure = w == "first" ? Behavior::Measure::kFirstTime : Behavior::Measure::kLastTime;
      EventTail(b, false);
      Position p = Peek().pos;
      b.time = TimeCondition();
      if (b.time.kind == Condition::Kind::kAnniversary || b.time.kind == Condition::Kind::kWithinNext ||
          b.time.kind == Condition::Kind::kDaysFromNow)
        Fail(p, "an event's time is in the past",
             "use within, more than ... ago, exactly N days ago, before or after");
      return e;
    }
    bool never = false;
    if (w == "never") {
      never = true;
      Next();
      w = Lower(Peek().text);
      if (Peek().kind != Token::Kind::kIdent || (w != "opened" && w != "clicked" && w != "received"))
        Fail(Peek().pos,
             fmt::format("expected opened, clicked or received after 'never', found {}", Describe(Peek())));
    }
    if ((w == "opened" || w == "clicked" || w == "received") && Peek(1).kind != Token::Kind::kOp &&
        !PeekWord("in", 1) && !PeekWord("within", 1) && !PeekWord("is", 1) && !PeekWord("exists", 1) &&
        !PeekWord("before", 1) && !PeekWord("after", 1) && !PeekWord("more", 1) && !PeekWord("contains", 1) &&
        !PeekWord("not", 1) && !PeekWord("starts", 1) && !PeekWord("ends", 1) && !PeekWord("less", 1) &&
        !PeekWord("exactly", 1)) {
      return Engagement(std::move(e), w, never);
    }
    if (w == "opened" || w == "clicked" || w == "received") {
      // `opened in the last 7 days` (and `never opened in the last 7 days`) reads as engagement too.
      if (PeekWord("in", 1) && (PeekWord("the", 2) || PeekWord("last", 2)))
        return Engagement(std::move(e), w, never);
      if (PeekWord("within", 1)) return Engagement(std::move(e), w, never);
    }
    if (never) Fail(t.pos, "expected opened, clicked or received after 'never'");
    return FieldPredicate(std::move(e));
  }

  ExprPtr Engagement(ExprPtr e, const std::string& verb, bool never) {
    e->kind = Expr::Kind::kBehavior;
    Behavior& b = e->behavior;
    b.pos = e->pos;
    Next();  // the verb
    b.measure = Behavior::Measure::kCount;
    // The events tracking records for each hit (tracking/hit_record.cpp), and the outbox's
    // delivery; an open or a click counts when tracking judged it human (`machine` false): a
    // privacy proxy's prefetch or a link scanner's click is not engagement.
    b.event = verb == "opened" ? "email_opened" : verb == "clicked" ? "email_clicked" : "message.sent";
    b.event_pos = Peek().pos;
    const bool human_only = verb != "received";
    b.op = never ? CmpOp::kEq : CmpOp::kGe;
    b.value = never ? 0 : 1;
    if (AcceptWord("any")) {
      ExpectWord("message", "write e.g. opened any message in the last 30 days");
    } else if (PeekWord("template") || PeekWord("campaign") || PeekWord("journey")) {
      const Token& k = Next();
      PropertyFilter f;
      f.pos = k.pos;
      f.property = Lower(k.text);
      f.condition.kind = Condition::Kind::kCompare;
      f.condition.op = CmpOp::kEq;
      Literal l;
      l.pos = Peek().pos;
      if (f.property == "template") {
        l.kind = Literal::Kind::kString;
        l.text = Name("a template name");
      } else {
        // A campaign or journey by its id: the message events and hits carry `campaign_id` /
        // `journey_id` (core/outbox.h AddSourceProperties).
        if (Peek().kind != Token::Kind::kNumber)
          Fail(Peek().pos, fmt::format("expected the {} id (a number, as in {} 12), found {}", f.property,
                                       f.property, Describe(Peek())));
        l.kind = Literal::Kind::kNumber;
        l.number = static_cast<double>(Count());
        f.property += "_id";
      }
      f.condition.values.push_back(std::move(l));
      b.filters.push_back(std::move(f));
    }
    if (human_only) {
      PropertyFilter f;
      f.pos = b.event_pos;
      f.property = "machine";
      f.condition.kind = Condition::Kind::kCompare;
      f.condition.op = CmpOp::kEq;
      Literal l;
      l.pos = b.event_pos;
      l.kind = Literal::Kind::kBool;
      l.boolean = false;
      f.condition.values.push_back(std::move(l));
      b.filters.push_back(std::move(f));
    }
    b.window = Window();
    return e;
  }

  // EVENT [where FILTER | where (FILTER and FILTER ...)] [window]
  void EventTail(Behavior& b, bool window) {
    b.event_pos = Peek().pos;
    b.event = Name("an event name");
    if (AcceptWord("where")) {
      if (Peek().kind == Token::Kind::kLParen) {
        Next();
        b.filters.push_back(Filter());
        while (AcceptWord("and")) b.filters.push_back(Filter());
        if (Peek().kind != Token::Kind::kRParen)
          Fail(Peek().pos,
               fmt::format("expected 'and' or ')' in the event's filters, found {}", Describe(Peek())),
               "filters on an event's properties are joined with 'and' only");
        Next();
      } else {
        b.filters.push_back(Filter());
        if (PeekWord("and") && Peek(1).kind == Token::Kind::kIdent && Peek(2).kind == Token::Kind::kOp) {
          // `where a > 1 and b = 2` is ambiguous: is b a property or the contact's attribute?
          // It means the contact's; say so only when it fails later. Nothing to do here.
        }
      }
    }
    if (window) b.window = Window();
  }

  PropertyFilter Filter() {
    PropertyFilter f;
    f.pos = Peek().pos;
    f.property = Name("an event property");
    f.condition = ValueCondition(f.pos, false);
    if (f.condition.kind != Condition::Kind::kCompare && f.condition.kind != Condition::Kind::kIn &&
        f.condition.kind != Condition::Kind::kExists && f.condition.kind != Condition::Kind::kContains &&
        f.condition.kind != Condition::Kind::kStartsWith && f.condition.kind != Condition::Kind::kEndsWith)
      Fail(f.pos,
           "an event property is compared with =, !=, <, <=, >, >=, in, contains, starts with, ends with or "
           "exists");
    return f;
  }

  std::optional<Period> Window() {
    if (PeekWord("in") && (PeekWord("the", 1) || PeekWord("last", 1))) {
      Next();
      AcceptWord("the");
      ExpectWord("last");
      return PeriodTail();
    }
    if (AcceptWord("within")) {
      if (AcceptWord("the"))
        ExpectWord("last");
      else
        AcceptWord("last");
      return PeriodTail();
    }
    if (AcceptWord("ever")) return std::nullopt;
    return std::nullopt;
  }

  Period PeriodTail() {
    Period p;
    p.amount = Count();
    const Token& u = Peek();
    std::string w = Lower(u.text);
    if (u.kind != Token::Kind::kIdent || !IsUnit(w))
      Fail(u.pos, fmt::format("expected a unit (minutes, hours, days, weeks), found {}", Describe(u)));
    Next();
    if (w.rfind("minute", 0) == 0)
      p.unit = Period::Unit::kMinute;
    else if (w.rfind("hour", 0) == 0)
      p.unit = Period::Unit::kHour;
    else if (w.rfind("day", 0) == 0)
      p.unit = Period::Unit::kDay;
    else
      p.unit = Period::Unit::kWeek;
    return p;
  }

  int64_t Count() {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kNumber)
      Fail(t.pos, fmt::format("expected a whole number, found {}", Describe(t)));
    double v = Number(t);
    if (v < 0 || v != std::floor(v) || v > 1e9)
      Fail(t.pos, fmt::format("expected a whole number from 0 to 1000000000, found {}", t.text));
    Next();
    return static_cast<int64_t>(v);
  }

  double Number(const Token& t) {
    char* end = nullptr;
    double v = std::strtod(t.text.c_str(), &end);
    if (end != t.text.c_str() + t.text.size() || !std::isfinite(v))
      Fail(t.pos, fmt::format("'{}' is not a number", t.text));
    return v;
  }

  std::string Name(std::string_view what) {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kIdent && t.kind != Token::Kind::kString)
      Fail(t.pos, fmt::format("expected {}, found {}", what, Describe(t)));
    if (t.text.empty()) Fail(t.pos, fmt::format("{} cannot be empty", what));
    return Next().text;
  }

  static CmpOp Op(const Token& t) {
    if (t.text == "=") return CmpOp::kEq;
    if (t.text == "!=") return CmpOp::kNe;
    if (t.text == "<") return CmpOp::kLt;
    if (t.text == "<=") return CmpOp::kLe;
    if (t.text == ">") return CmpOp::kGt;
    return CmpOp::kGe;
  }

  Literal Lit() {
    const Token& t = Peek();
    Literal l;
    l.pos = t.pos;
    if (t.kind == Token::Kind::kString) {
      l.kind = Literal::Kind::kString;
      l.text = t.text;
    } else if (t.kind == Token::Kind::kNumber) {
      l.kind = Literal::Kind::kNumber;
      l.number = Number(t);
    } else if (t.kind == Token::Kind::kDate) {
      l.kind = Literal::Kind::kDate;
      l.text = t.text;
    } else if (IsWord(t, "true") || IsWord(t, "false")) {
      l.kind = Literal::Kind::kBool;
      l.boolean = IsWord(t, "true");
    } else if (t.kind == Token::Kind::kIdent) {
      Fail(t.pos, fmt::format("expected a value, found the name '{}'", t.text),
           fmt::format("quote text values: \"{}\"", t.text));
    } else {
      Fail(t.pos, fmt::format("expected a value, found {}", Describe(t)));
    }
    Next();
    return l;
  }

  ExprPtr FieldPredicate(ExprPtr e) {
    e->kind = Expr::Kind::kField;
    Field& f = e->field;
    f.pos = Peek().pos;
    std::string name = Next().text;
    if (name.rfind("attributes.", 0) == 0 && name.size() > 11) {
      f.name = name.substr(11);
      f.kind = FieldKind::kAttribute;
    } else {
      f.name = name;
    }
    if (Lower(f.name) == "random_bucket" && f.kind != FieldKind::kAttribute &&
        Peek().kind == Token::Kind::kLParen) {
      Next();
      if (Peek().kind != Token::Kind::kString)
        Fail(Peek().pos, "expected a salt in quotes: random_bucket(\"holdout\")");
      f.salt = Next().text;
      if (Peek().kind != Token::Kind::kRParen)
        Fail(Peek().pos, fmt::format("expected ')', found {}", Describe(Peek())));
      Next();
    }
    e->condition = ValueCondition(f.pos, true);
    return e;
  }

  Condition TimeCondition() {
    Condition c = ValueCondition(Peek().pos, true);
    switch (c.kind) {
      case Condition::Kind::kWithinLast:
      case Condition::Kind::kWithinNext:
      case Condition::Kind::kMoreThanAgo:
      case Condition::Kind::kBefore:
      case Condition::Kind::kAfter:
      case Condition::Kind::kAnniversary:
      case Condition::Kind::kDaysAgo:
      case Condition::Kind::kDaysFromNow: return c;
      default:
        Fail(Peek().pos,
             "expected a time condition (within N days, more than N days ago, exactly N days ago, "
             "before DATE, after DATE)");
    }
  }

  // What follows a field (or a property): an operator and value(s), or a keyword condition.
  Condition ValueCondition(Position field_pos, bool time_ok) {
    Condition c;
    const Token& t = Peek();
    if (t.kind == Token::Kind::kOp) {
      c.kind = Condition::Kind::kCompare;
      c.op = Op(Next());
      c.values.push_back(Lit());
      return c;
    }
    if (t.kind != Token::Kind::kIdent)
      Fail(t.pos, fmt::format("expected a comparison after the field, found {}", Describe(t)),
           "e.g. = \"Paris\", > 30, in (\"a\", \"b\"), contains \"x\", exists, within 30 days");
    std::string w = Lower(t.text);
    if (w == "not") {
      Next();
      c.negated = true;
      w = Lower(Peek().text);
      if (Peek().kind != Token::Kind::kIdent ||
          (w != "in" && w != "contains" && w != "starts" && w != "ends" && w != "exists"))
        Fail(Peek().pos,
             fmt::format("expected in, contains, starts with, ends with or exists after 'not', found {}",
                         Describe(Peek())));
    }
    if (w == "in" && Peek(1).kind == Token::Kind::kLParen) {
      Next();
      Next();
      c.kind = Condition::Kind::kIn;
      c.values.push_back(Lit());
      while (Peek().kind == Token::Kind::kComma) {
        Next();
        c.values.push_back(Lit());
      }
      if (Peek().kind != Token::Kind::kRParen)
        Fail(Peek().pos, fmt::format("expected ',' or ')' in the list, found {}", Describe(Peek())));
      Next();
      return c;
    }
    if (w == "in" && time_ok && !c.negated &&
        (PeekWord("next", 1) || (PeekWord("the", 1) && PeekWord("next", 2)))) {
      Next();
      AcceptWord("the");
      Next();
      c.kind = Condition::Kind::kAnniversary;
      c.period = PeriodTail();
      if (c.period.unit != Period::Unit::kDay && c.period.unit != Period::Unit::kWeek)
        Fail(t.pos, "an anniversary window is in days or weeks");
      return c;
    }
    if (w == "contains" || w == "starts" || w == "ends") {
      Next();
      if (w != "contains") ExpectWord("with", fmt::format("write '{} with \"...\"'", w));
      c.kind = w == "contains" ? Condition::Kind::kContains
               : w == "starts" ? Condition::Kind::kStartsWith
                               : Condition::Kind::kEndsWith;
      if (Peek().kind != Token::Kind::kString)
        Fail(Peek().pos, fmt::format("expected text in quotes, found {}", Describe(Peek())));
      c.values.push_back(Lit());
      return c;
    }
    if (w == "exists") {
      Next();
      c.kind = Condition::Kind::kExists;
      return c;
    }
    if (c.negated) Fail(t.pos, "unreachable");
    if (w == "is") {
      Next();
      c.kind = Condition::Kind::kExists;
      bool is_not = AcceptWord("not");
      ExpectWord("null", "write 'is null' or 'is not null'");
      c.negated = !is_not;  // is null: does not exist
      return c;
    }
    if (time_ok && w == "within") {
      Next();
      c.kind = Condition::Kind::kWithinLast;
      if (AcceptWord("next") || (PeekWord("the") && PeekWord("next", 1) && (Next(), Next(), true))) {
        c.kind = Condition::Kind::kWithinNext;
      } else if (AcceptWord("the")) {
        ExpectWord("last");
      } else {
        AcceptWord("last");
      }
      c.period = PeriodTail();
      return c;
    }
    if (time_ok && (w == "more" || w == "less")) {
      Next();
      ExpectWord("than", fmt::format("write '{} than 30 days ago'", w));
      c.kind = w == "more" ? Condition::Kind::kMoreThanAgo : Condition::Kind::kWithinLast;
      c.period = PeriodTail();
      ExpectWord("ago", fmt::format("write '{} than {} days ago'", w, c.period.amount));
      return c;
    }
    if (time_ok && w == "exactly") {
      // exactly N days ago / exactly N days from now: one calendar day, in the contact's timezone.
      Next();
      Position unit_pos = Peek(1).pos;
      c.period = PeriodTail();
      if (c.period.unit != Period::Unit::kDay && c.period.unit != Period::Unit::kWeek)
        Fail(unit_pos, "'exactly N days ago' counts whole days or weeks",
             "for hours or minutes use within or more than ... ago");
      if (AcceptWord("ago")) {
        c.kind = Condition::Kind::kDaysAgo;
        return c;
      }
      if (AcceptWord("from")) {
        ExpectWord("now", fmt::format("write 'exactly {} days from now'", c.period.amount));
        c.kind = Condition::Kind::kDaysFromNow;
        return c;
      }
      Fail(Peek().pos, fmt::format("expected 'ago' or 'from now', found {}", Describe(Peek())),
           fmt::format("write 'exactly {0} days ago' or 'exactly {0} days from now'", c.period.amount));
    }
    if (time_ok && (w == "before" || w == "after")) {
      Next();
      c.kind = w == "before" ? Condition::Kind::kBefore : Condition::Kind::kAfter;
      const Token& v = Peek();
      if (v.kind != Token::Kind::kDate && v.kind != Token::Kind::kString)
        Fail(v.pos, fmt::format("expected a date (2026-01-31) or a time in quotes, found {}", Describe(v)));
      c.values.push_back(Lit());
      return c;
    }
    Fail(t.pos, fmt::format("expected a comparison after the field, found {}", Describe(t)),
         "e.g. = \"Paris\", > 30, in (\"a\", \"b\"), contains \"x\", exists, within 30 days");
  }

  std::string_view source_;
  std::vector<Token> t_;
  size_t i_ = 0;
};

}  // namespace

ParseResult<ExprPtr> Parse(std::string_view source) {
  auto tokens = Tokenize(source);
  if (auto* e = std::get_if<ParseError>(&tokens)) return *e;
  try {
    Parser p(source, std::get<std::vector<Token>>(std::move(tokens)));
    return p.Run();
  } catch (Failure& f) {
    return std::move(f.error);
  }
}

}  // namespace rapport::segment
