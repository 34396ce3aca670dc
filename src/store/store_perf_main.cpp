// A timed run of the store's hot paths (not a test; timings are reported, never asserted):
//   store_perf [sqlite|postgres|import|import-rows|all] [import_count]   or   store_perf url postgres://...
// - append: 100 batches x 1,000 events naming 10,000 known contacts by email, one Append each;
// - import: ContactStore::Import of N new contacts (default 1,000,000; each with an email, an
//   external_id and three attributes) into SQLite; import-rows: the same through the row path
//   (every row upserted on its own, sql_contact_import.cpp), the set path's reference.
// PostgreSQL runs on a throwaway server started here (tests/pg/pg_fixture.h).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../../tests/pg/pg_fixture.h"
#include "store/open.h"
#include "store/sql/sql_contact_import.h"
#include "store/sql/sql_store.h"

namespace rapport {
namespace {

using Clock_ = std::chrono::steady_clock;

// CPU time of this process (user + system): on a busy machine, a steadier measure than wall time
// of the work done in-process (all of it for SQLite; the client side for PostgreSQL).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double Seconds(Clock_::time_point since) {
  return std::chrono::duration<double>(Clock_::now() - since).count();
}

bool RunAppend(const std::string& label, const std::string& url) {
  auto store = OpenStore(url);
  if (!store.ok() || !(*store)->Migrate().ok()) {
    std::fprintf(stderr, "%s: cannot open %s\n", label.c_str(), url.c_str());
    return false;
  }
  Store& s = **store;
  WorkspaceId ws = s.workspaces().Create("perf")->id;
  constexpr int kContacts = 10'000, kBatches = 100, kPerBatch = 1'000;
  std::vector<ContactInput> contacts(kContacts);
  for (int i = 0; i < kContacts; ++i) contacts[i].email = "user" + std::to_string(i) + "@example.com";
  Status imported = s.contacts().Import(ws, contacts, [](size_t, const Result<UpsertResult>&) {});
  if (!imported.ok()) return false;

  std::vector<std::vector<NewEvent>> batches(kBatches);
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kPerBatch; ++i) {
      NewEvent e;
      e.contact.email = contacts[(b * kPerBatch + i) % kContacts].email;
      e.name = "page.viewed";
      e.properties = {{"path", "/products/" + std::to_string(i)}, {"ms", i}};
      if (i % 4 == 0) e.idempotency_key = std::string("k") + std::to_string(b) + "-" + std::to_string(i);
      batches[b].push_back(std::move(e));
    }
  }
  const int64_t before = *s.events().Count(ws);  // the import's "contact.imported" events
  double worst = 0;
  double cpu_start = CpuSeconds();
  auto start = Clock_::now();
  for (const auto& batch : batches) {
    auto t = Clock_::now();
    auto r = s.events().Append(ws, batch, SystemClock::Instance().Now());
    if (!r.ok()) {
      std::fprintf(stderr, "%s: append failed: %s\n", label.c_str(), r.error().message.c_str());
      return false;
    }
    worst = std::max(worst, Seconds(t));
  }
  double total = Seconds(start);
  double cpu = CpuSeconds() - cpu_start;
  std::printf(
      "%-8s append: %d batches x %d events in %.3f s = %.0f events/s (mean %.2f ms/batch, worst %.2f ms; "
      "process CPU %.2f ms/batch)\n",
      label.c_str(), kBatches, kPerBatch, total, kBatches * kPerBatch / total, total * 1000 / kBatches,
      worst * 1000, cpu * 1000 / kBatches);
  return *s.events().Count(ws) - before == kBatches * kPerBatch;
}

bool RunImport(const std::string& path, size_t count, bool rows_only) {
  auto store = OpenStore("sqlite:" + path);
  if (!store.ok() || !(*store)->Migrate().ok()) return false;
  Store& s = **store;
  if (rows_only) dynamic_cast<sql::SqlContactStore&>(s.contacts()).SetSetBasedImport(false);
  WorkspaceId ws = s.workspaces().Create("import")->id;
  std::vector<ContactInput> rows(count);
  for (size_t i = 0; i < count; ++i) {
    rows[i].email = "person" + std::to_string(i) + "@example.org";
    rows[i].external_id = "ext-" + std::to_string(i);
    rows[i].attributes =
        json::object{{"first_name", "Ada"}, {"plan", i % 3 ? "free" : "pro"}, {"score", i % 100}};
  }
  size_t ok = 0;
  double cpu_start = CpuSeconds();
  auto start = Clock_::now();
  Status st = s.contacts().Import(ws, rows, [&](size_t, const Result<UpsertResult>& r) { ok += r.ok(); });
  double secs = Seconds(start);
  std::printf(
      "sqlite   import%s: %zu contacts in %.2f s = %.0f contacts/s (%zu ok, %lld by the set path; process "
      "CPU "
      "%.2f s)\n",
      rows_only ? " (row path)" : "", count, secs, count / secs, ok,
      static_cast<long long>(sql::ContactsImportedBySetPath()), CpuSeconds() - cpu_start);
  return st.ok() && ok == count;
}

}  // namespace
}  // namespace rapport

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "all";
  size_t import_count = (argc > 2 && what.starts_with("import")) ? std::stoul(argv[2]) : 1000000;
  auto dir = std::filesystem::temp_directory_path() / ("rapport-perf-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  bool ok = true;
  if (what == "sqlite" || what == "all")
    ok &= rapport::RunAppend("sqlite", "sqlite:" + (dir / "append.db").string());
  if (what == "url" && argc > 2) ok &= rapport::RunAppend("url", argv[2]);
  if (what == "postgres" || what == "all") {
    std::string error;
    auto pg = rapport::testing::PgServer::Start(&error);
    if (!pg || !pg->CreateDatabase("perf", &error)) {
      std::fprintf(stderr, "postgres: %s\n", error.c_str());
      ok = false;
    } else {
      ok &= rapport::RunAppend("postgres", pg->Url("perf"));
    }
  }
  if (what == "import" || what == "all")
    ok &= rapport::RunImport((dir / "import.db").string(), import_count, /*rows_only=*/false);
  if (what == "import-rows")
    ok &= rapport::RunImport((dir / "import.db").string(), import_count, /*rows_only=*/true);
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
