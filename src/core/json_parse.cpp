#include "core/json_parse.h"

#include <boost/json/basic_parser_impl.hpp>

#include <charconv>
#include <string>

namespace rapport {

namespace json = boost::json;

namespace {

// Boost.JSON's own value-building handler (detail::handler), but a double is read from its text.
struct ExactHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::string number;  // the parts of a number split across writes (not with one whole text)

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (!number.empty()) {
      number.append(s.data(), s.size());
      first = number.data();
      last = number.data() + number.size();
    }
    double exact = 0;
    auto [end, err] = std::from_chars(first, last, exact);
    // Out of range (1e999) keeps Boost's reading (infinity or 0), which callers check.
    if (err == std::errc() && end == last) d = exact;
    number.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

struct JsonParser::Impl {
  explicit Impl(const json::parse_options& options) : parser(options) {}
  json::basic_parser<ExactHandler> parser;
};

JsonParser::JsonParser(const json::parse_options& options) : impl_(std::make_unique<Impl>(options)) {
  Reset();
}
JsonParser::~JsonParser() = default;

void JsonParser::Reset(json::storage_ptr sp) {
  impl_->parser.reset();
  impl_->parser.handler().st.reset(std::move(sp));
  impl_->parser.handler().number.clear();
}

size_t JsonParser::Write(std::string_view text, json::error_code& ec) {
  size_t n = impl_->parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  return n;
}

json::value JsonParser::Release() { return impl_->parser.handler().st.release(); }

json::value ParseJsonExact(std::string_view text, json::error_code& ec, json::storage_ptr sp,
                           const json::parse_options& options) {
  JsonParser p(options);
  p.Reset(std::move(sp));
  p.Write(text, ec);
  if (ec) return nullptr;
  return p.Release();
}

json::value ParseJsonExact(std::string_view text, json::storage_ptr sp, const json::parse_options& options) {
  json::error_code ec;
  json::value v = ParseJsonExact(text, ec, std::move(sp), options);
  if (ec) throw boost::system::system_error(ec);
  return v;
}

}  // namespace rapport
