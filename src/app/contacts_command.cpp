#include "app/contacts_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "app/app_context.h"
#include "app/contact_export.h"
#include "app/contact_import.h"
#include "app/csv_reader.h"
#include "app/delivery_setup.h"
#include "tracking/erasure.h"

namespace rapport::app {

namespace {

constexpr int64_t kRejectsShown = 100;

struct ContactsOptions {
  CommonOptions common;
  std::string workspace;
  std::string file;
  std::string reject_file;
  size_t batch_size = 5000;
  std::string format = "csv";
  std::string output;
  std::string erase;  // `contacts erase`: a contact id or an email address
};

// Writes rejects to stderr and the reject file; draws the progress bar.
class CliImportListener final : public ImportListener {
 public:
  CliImportListener(std::string reject_path, uint64_t total_bytes)
      : reject_path_(std::move(reject_path)), total_bytes_(total_bytes), tty_(::isatty(STDERR_FILENO) == 1) {}

  void OnHeader(std::string_view csv_header) override { header_ = std::string(csv_header); }

  void OnReject(int64_t line, std::string_view csv_row, std::string_view reason) override {
    ++rejects_;
    if (rejects_ <= kRejectsShown) {
      ClearBar();
      std::cerr << "line " << line << ": " << EscapeForTerminal(reason) << '\n';
    }
    if (!reject_out_.is_open()) {
      reject_out_.open(reject_path_, std::ios::binary | std::ios::trunc);
      if (!reject_out_) {
        write_failed_ = true;
        return;
      }
      reject_out_ << header_ << ",reason\r\n";
    }
    std::string row(csv_row);
    row.push_back(',');
    AppendCsvField(row, reason);
    row += "\r\n";
    reject_out_ << row;
  }

  void OnProgress(uint64_t bytes_read, const ImportSummary& s) override {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && bytes_read < total_bytes_) return;
    last_draw_ = now;
    double fraction = total_bytes_ ? std::min(1.0, static_cast<double>(bytes_read) / total_bytes_) : 0;
    int filled = static_cast<int>(fraction * 30);
    std::cerr << fmt::format("\r[{}{}] {:3.0f}%  {} imported, {} rejected", std::string(filled, '#'),
                             std::string(30 - filled, ' '), fraction * 100, s.imported(), s.rejected)
              << std::flush;
    bar_shown_ = true;
  }

  const std::string& reject_path() const { return reject_path_; }

  // Ends the bar and reports where the rejects went.
  Status Finish() {
    ClearBar();
    if (rejects_ > kRejectsShown)
      std::cerr << fmt::format("... and {} more rejected rows\n", rejects_ - kRejectsShown);
    if (reject_out_.is_open()) {
      reject_out_.close();
      if (!reject_out_) write_failed_ = true;
    }
    if (write_failed_) return Error::Unavailable("cannot write the reject file " + reject_path_);
    if (rejects_ > 0) std::cerr << "rejected rows written to " << reject_path_ << '\n';
    return {};
  }

 private:
  void ClearBar() {
    if (bar_shown_) std::cerr << "\r\033[K";
    bar_shown_ = false;
  }

  std::string reject_path_;
  uint64_t total_bytes_;
  bool tty_;
  bool bar_shown_ = false;
  bool write_failed_ = false;
  int64_t rejects_ = 0;
  std::string header_;
  std::ofstream reject_out_;
  std::chrono::steady_clock::time_point last_draw_{};
};

Status Import(const ContactsOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return Error::Invalid("file", "cannot read " + o.file);
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(o.file, ec);
  if (ec) size = 0;
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/true));

  CsvReader reader(in);
  CliImportListener listener(o.reject_file.empty() ? o.file + ".rejects.csv" : o.reject_file, size);
  ImportOptions options;
  options.batch_size = o.batch_size;
  auto summary = ImportContacts(reader, store->contacts(), ws.id, options, listener);
  Status finished = listener.Finish();
  if (!summary.ok()) return std::move(summary).error();
  RAPPORT_TRY(finished);

  AuditEntry entry;
  entry.workspace_id = ws.id;
  entry.actor = "cli";
  entry.action = "contacts.import";
  entry.entity = "import";
  entry.entity_id = std::filesystem::path(o.file).filename().string();
  entry.details["file"] = o.file;
  entry.details["created"] = summary->created;
  entry.details["updated"] = summary->updated;
  entry.details["rejected"] = summary->rejected;
  entry.at = SystemClock::Instance().Now();
  RAPPORT_TRY(store->audit().Record(entry));

  std::cout << fmt::format("imported {} (created {}, updated {}), rejected {}", summary->imported(),
                           summary->created, summary->updated, summary->rejected)
            << std::endl;
  if (summary->imported() == 0 && summary->rejected > 0)
    return Error::Invalid("file", fmt::format("every row of {} was rejected ({}); they are in {}", o.file,
                                              summary->rejected, listener.reject_path()));
  return {};
}

Status Export(const ContactsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(ExportFormat format, ParseExportFormat(o.format));
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  auto ws = ResolveWorkspace(*store, o.workspace, /*create_default=*/false);
  bool empty_default = !ws.ok() && o.workspace.empty() && ws.error().code == ErrorCode::kNotFound;
  if (!ws.ok() && !empty_default) return std::move(ws).error();

  std::ofstream file;
  if (!o.output.empty()) {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) return Error::Invalid("output", "cannot write " + o.output);
  }
  std::ostream& out = o.output.empty() ? std::cout : file;
  if (empty_default) {  // nothing imported yet: an empty export
    std::string header;
    if (format == ExportFormat::kCsv) AppendContactCsvHeader(header);
    out << header << std::flush;
    return {};
  }
  RAPPORT_ASSIGN_OR_RETURN(int64_t count, ExportContacts(store->contacts(), ws->id, format, out));
  if (!o.output.empty()) std::cerr << fmt::format("exported {} contacts to {}\n", count, o.output);
  return {};
}

// Lists the contacts whose emails differ only in letter case, one group per paragraph, with the
// command that merges each extra one into the oldest.
Status Duplicates(const ContactsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  auto ws = ResolveWorkspace(*store, o.workspace, /*create_default=*/false);
  if (!ws.ok() && o.workspace.empty() && ws.error().code == ErrorCode::kNotFound) {
    std::cout << "no duplicates" << std::endl;
    return {};
  }
  if (!ws.ok()) return std::move(ws).error();
  RAPPORT_ASSIGN_OR_RETURN(auto groups, store->contacts().ListDuplicates(ws->id));
  for (const std::vector<Contact>& group : groups) {
    for (const Contact& c : group)
      std::cout << fmt::format("{}\t{}\t{}\n", c.id, c.email, FormatTimestamp(c.created_at));
    for (size_t i = 1; i < group.size(); ++i)
      std::cout << fmt::format("  merge: POST /api/v1/contacts/{}/merge {{\"contact_id\": {}}}\n",
                               group[0].id, group[i].id);
    std::cout << "\n";
  }
  std::cout << fmt::format("{} groups of duplicates", groups.size()) << std::endl;
  return {};
}

// GDPR erasure from the command line: the same use case as DELETE /api/v1/contacts/{id}, with
// the configured transports' kept copies (the maildir's files) erased too; audited (actor "cli").
Status Erase(const ContactsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  Contact contact;
  if (!o.erase.empty() && o.erase.find_first_not_of("0123456789") == std::string::npos) {
    RAPPORT_ASSIGN_OR_RETURN(contact, store->contacts().Get(ws.id, std::stoll(o.erase)));
  } else {
    RAPPORT_ASSIGN_OR_RETURN(contact, store->contacts().GetByEmail(ws.id, o.erase));
  }
  RAPPORT_ASSIGN_OR_RETURN(Transports lanes, BuildTransports(config));
  delivery::TransportCopies copies({lanes.transactional.get(), lanes.marketing.get()});
  RAPPORT_TRY(tracking::EraseContact(*store, &copies, ws.id, contact.id));
  AuditEntry entry;
  entry.workspace_id = ws.id;
  entry.actor = "cli";
  entry.action = "contact.erase";
  entry.entity = "contact";
  entry.entity_id = std::to_string(contact.id);
  entry.at = SystemClock::Instance().Now();
  if (auto st = store->audit().Record(entry); !st.ok())
    std::cerr << "warning: the audit entry was not recorded: " << st.error().message << "\n";
  std::cout << fmt::format("erased contact {}", contact.id) << std::endl;
  return {};
}

int Run(const Status& status) { return status.ok() ? 0 : PrintError(status.error()); }

}  // namespace

void RegisterContactsCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<ContactsOptions>();
  CLI::App* contacts = root.add_subcommand("contacts", "Import, export and find duplicate contacts");
  contacts->require_subcommand(1);

  CLI::App* import =
      contacts->add_subcommand("import", "Import contacts from a CSV file (header row required)");
  import->add_option("FILE", options->file, "the CSV file")->required();
  import->add_option("--workspace", options->workspace,
                     "workspace name (default: \"default\", created if missing)");
  import->add_option(
      "--reject", options->reject_file,
      "where rejected rows go (default: the input path with .rejects.csv appended, FILE.csv.rejects.csv)");
  import->add_option("--batch", options->batch_size, "rows per store transaction")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  AddCommonOptions(*import, options->common);
  AddDatabaseOption(*import, options->common);
  import->callback([options, &exit_code] { exit_code = Run(Import(*options));
});

CLI::App* exp = contacts->add_subcommand("export", "Export contacts as CSV or JSON lines");
exp->add_option("--format", options->format, "csv (default) or jsonl");
exp->add_option("--output,-o", options->output, "file to write (default stdout)");
exp->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
AddCommonOptions(*exp, options->common);
AddDatabaseOption(*exp, options->common);
exp->callback([options, &exit_code] { exit_code = Run(Export(*options)); });

CLI::App* dups = contacts->add_subcommand(
    "duplicates", "List contacts whose emails differ only in letter case (merge them with the API)");
dups->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
AddCommonOptions(*dups, options->common);
AddDatabaseOption(*dups, options->common);
dups->callback([options, &exit_code] { exit_code = Run(Duplicates(*options)); });

CLI::App* erase = contacts->add_subcommand(
    "erase", "Erase a contact (GDPR): its data, events and messages, and the copies of its mail");
erase->add_option("CONTACT", options->erase, "the contact's id or email address")->required();
erase->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
AddCommonOptions(*erase, options->common);
AddDatabaseOption(*erase, options->common);
erase->callback([options, &exit_code] { exit_code = Run(Erase(*options)); });
}  // namespace rapport::app

}  // namespace rapport::app
