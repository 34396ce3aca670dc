#include "store/sql/notifying_database.h"

namespace rapport::sql {

namespace {

// Forwards every call, noting whether a statement inserted into the events table.
class NotingSession final : public Session {
 public:
  explicit NotingSession(Session& inner) : inner_(inner) {}
  Result<int64_t> Exec(std::string_view sql, std::span<const Param> params, const RowFn& on_row) override {
    if (!appended_ && sql.starts_with("INSERT INTO events ")) appended_ = true;
    return inner_.Exec(sql, params, on_row);
  }
  Status ExecScript(std::string_view sql) override { return inner_.ExecScript(sql); }
  Dialect dialect() const override { return inner_.dialect(); }
  bool appended() const { return appended_; }

 private:
  Session& inner_;
  bool appended_ = false;
};

}  // namespace

Status NotifyingDatabase::Noting(const TxFn& fn, bool purge) {
  bool appended = false;
  auto noted = [&](Session& s) -> Status {
    NotingSession noting(s);
    Status result = fn(noting);
    appended = noting.appended();  // the last attempt's, when the backend retries
    return result;
  };
  Status st = purge ? inner_->WriteAndPurge(noted) : inner_->Write(noted);
  if (appended && (st.ok() || purge)) notifier_.Notify();  // a purge's commit precedes its checkpoint
  return st;
}

Status NotifyingDatabase::Write(const TxFn& fn) { return Noting(fn, false); }

Status NotifyingDatabase::WriteAndPurge(const TxFn& fn) { return Noting(fn, true); }

}  // namespace rapport::sql
