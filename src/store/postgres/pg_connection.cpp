#include "store/postgres/pg_connection.h"

#include <charconv>
#include <vector>

namespace rapport::postgres {

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Type OIDs (catalog/pg_type.h) of the columns a binary-format result may hold.
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kTextOid = 25,
              kVarcharOid = 1043;

class ResultRow final : public sql::Row {
 public:
  ResultRow(PGresult* res, int row, bool binary) : res_(res), row_(row), binary_(binary) {}
  bool IsNull(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
  int64_t Int(int col) const override {
    const char* p = PQgetvalue(res_, row_, col);
    const int len = PQgetlength(res_, row_, col);
    int64_t v = 0;
    const Oid type = PQftype(res_, col);
    if (type == kBoolOid && !binary_) return len > 0 && p[0] == 't';
    if (binary_ && type != kTextOid && type != kVarcharOid) {
      // Big-endian two's complement of 1 (bool), 2, 4 or 8 bytes.
      if (len > 0) v = static_cast<signed char>(p[0]);
      for (int i = 1; i < len; ++i) v = v * 256 + static_cast<unsigned char>(p[i]);
      return v;
    }
    std::from_chars(p, p + len, v);
    return v;
  }
  std::string_view Text(int col) const override {
    return {PQgetvalue(res_, row_, col), static_cast<size_t>(PQgetlength(res_, row_, col))};
  }
  std::string Bytes(int col) const override {
    if (binary_) return std::string(Text(col));
    size_t len = 0;
    unsigned char* raw =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row_, col)), &len);
    if (raw == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(raw), len);
    PQfreemem(raw);
    return out;
  }

 private:
  PGresult* res_;
  int row_;
  bool binary_;
};

// Binary results for a statement that returns bytea, when every column is one ResultRow decodes.
int ResultFormatFor(const PGresult* description) {
  bool bytea = false;
  for (int i = 0; i < PQnfields(description); ++i) {
    switch (PQftype(description, i)) {
      case kByteaOid: bytea = true; break;
      case kBoolOid:
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
      case kTextOid:
      case kVarcharOid: break;
      default: return 0;
    }
  }
  return bytea ? 1 : 0;
}

// Constraint names end in "__<field>" (contacts_uq__external_id): the field a conflict is about.
// The email's identity key (contacts_uq__email_key) is the address's: the field is "email".
std::string FieldOfConstraint(const char* name) {
  if (name == nullptr) return {};
  std::string_view n(name);
  size_t at = n.rfind("__");
  if (at == std::string_view::npos) return {};
  std::string_view field = n.substr(at + 2);
  if (field == "email_key") return "email";
  return std::string(field);
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Error::Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Error::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  std::unique_ptr<PgConnection> c(new PgConnection(conn));
  RAPPORT_TRY(c->ExecScript("SET synchronous_commit = on; SET client_min_messages = warning"));
  return c;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Error PgConnection::ResultError(PGresult* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string msg = std::string(what) + ": " + (res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string_view s = last_sqlstate_;
  if (!healthy() || s.empty()) return Error::Unavailable(msg);
  if (s == "23505")
    return Error::Conflict(msg, FieldOfConstraint(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)));
  if (s.substr(0, 2) == "23" || s.substr(0, 2) == "22") return Error::Invalid("", msg);
  if (s == "40001" || s == "40P01" || s == "55P03" || s.substr(0, 2) == "08" || s.substr(0, 2) == "53" ||
      s.substr(0, 3) == "57P")
    return Error::Unavailable(msg);
  return Error::Internal(msg);
}

Result<int64_t> PgConnection::Exec(std::string_view sql, std::span<const sql::Param> params,
                                   const sql::RowFn& on_row) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string key(sql);
    Prepared prepared{"r" + std::to_string(prepared_.size() + 1), 0};
    ResultPtr res(PQprepare(conn_, prepared.name.c_str(), key.c_str(), 0, nullptr));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) return ResultError(res.get(), "prepare");
    // The statement exists now under its name: keep it even if describing it fails (text results
    // then; a lost connection shows in the execution that follows).
    ResultPtr description(PQdescribePrepared(conn_, prepared.name.c_str()));
    if (description && PQresultStatus(description.get()) == PGRES_COMMAND_OK)
      prepared.result_format = ResultFormatFor(description.get());
    it = prepared_.emplace(std::move(key), std::move(prepared)).first;
  }
  size_t n = params.size();
  std::vector<std::string> storage(n);
  std::vector<const char*> values(n, nullptr);
  std::vector<int> lengths(n, 0), formats(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const sql::Param& p = params[i];
    if (auto* v = std::get_if<int64_t>(&p)) {
      storage[i] = std::to_string(*v);
      values[i] = storage[i].c_str();
    } else if (auto* s = std::get_if<std::string_view>(&p)) {
      storage[i].assign(s->data() ? s->data() : "", s->size());
      values[i] = storage[i].c_str();
    } else if (auto* b = std::get_if<sql::Blob>(&p)) {
      values[i] = b->bytes.data() ? b->bytes.data() : "";
      lengths[i] = static_cast<int>(b->bytes.size());
      formats[i] = 1;
    }
  }
  const bool binary = it->second.result_format == 1;
  ResultPtr res(PQexecPrepared(conn_, it->second.name.c_str(), static_cast<int>(n), values.data(),
                               lengths.data(), formats.data(), it->second.result_format));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    int rows = PQntuples(res.get());
    if (on_row) {
      for (int r = 0; r < rows; ++r) on_row(ResultRow(res.get(), r, binary));
    }
    return int64_t{rows};
  }
  if (st == PGRES_COMMAND_OK) {
    last_sqlstate_.clear();
    const char* tuples = PQcmdTuples(res.get());
    int64_t changed = 0;
    if (tuples && *tuples) std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), changed);
    return changed;
  }
  return ResultError(res.get(), "query");
}

Status PgConnection::ExecScript(std::string_view sql) {
  std::string text(sql);
  ResultPtr res(PQexec(conn_, text.c_str()));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(res.get(), "exec");
  last_sqlstate_.clear();
  return {};
}

}  // namespace rapport::postgres
