#include "mail/dkim.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "mail/dkim_canonical.h"
#include "mail/mime_writer.h"
#include "source_dir.h"

namespace rapport::mail {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rapport-dkim-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Runs tests/mail/dkim_verify.py (python3-dkim) on `message`; its exit code: 0 pass, 1 fail,
// 2 python3-dkim missing (the tests then fail: that is not a verification result).
int Verify(const std::string& message, const std::vector<const DkimKey*>& keys, int expected) {
  TempDir dir;
  WriteFile(dir.File("msg.eml"), message);
  std::string dns;
  for (const DkimKey* k : keys) {
    auto txt = DkimTxtValue(*k);
    EXPECT_TRUE(txt.ok());
    dns += k->selector() + "._domainkey." + k->domain() + ".\t" + *txt + "\n";
  }
  WriteFile(dir.File("dns.txt"), dns);
  std::string cmd = std::string("/usr/bin/python3 ") + RAPPORT_SOURCE_DIR + "/tests/mail/dkim_verify.py " +
                    dir.File("msg.eml") + " " + dir.File("dns.txt") + " " + std::to_string(expected) + " > " +
                    dir.File("out.txt") + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(dir.File("out.txt"));
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 100;
  EXPECT_NE(code, 2) << "python3-dkim is required for the DKIM tests: " << out;
  return code;
}

const DkimKey& RsaKey() {
  static const DkimKey key = [] {
    auto pem = GenerateDkimKeyPem(DkimAlgorithm::kRsaSha256);
    EXPECT_TRUE(pem.ok());
    auto k = DkimKeyFromPem("example.com", "rsa2026", *pem, DkimAlgorithm::kRsaSha256);
    EXPECT_TRUE(k.ok()) << k.error().message;
    return *k;
  }();
  return key;
}

const DkimKey& EdKey() {
  static const DkimKey key = [] {
    auto pem = GenerateDkimKeyPem(DkimAlgorithm::kEd25519Sha256);
    EXPECT_TRUE(pem.ok());
    auto k = DkimKeyFromPem("example.com", "ed2026", *pem, DkimAlgorithm::kEd25519Sha256);
    EXPECT_TRUE(k.ok()) << k.error().message;
    return *k;
  }();
  return key;
}

std::string SampleMessage(MessageClass cls = MessageClass::kMarketing) {
  MimeMessage m;
  m.from = {"Café Müller", {"news", "example.com"}};
  m.reply_to = Mailbox{"Support", {"support", "example.com"}};
  m.to = {{"Ada Lovelace", {"ada", "example.org"}}};
  m.subject = "Nouveautés de la semaine ☕ — a subject long enough to be folded over lines";
  m.text = "Bonjour Ada,\n\n  Voici   les nouveautés.   \nFrom here\n.\n\n\n";
  m.html = "<html><body><p>ご注文の商品を発送しました</p></body></html>";
  m.date = FromMicros(1795428907LL * 1000000);
  m.message_class = cls;
  m.list_unsubscribe_url = "https://mail.example.com/u/abc123";
  m.list_unsubscribe_mailto = "mailto:unsubscribe@example.com";
  m.list_id = "weekly.example.com";
  m.list_name = "Weekly news";
  m.feedback_id = "c42:weekly:marketing:rapport";
  auto r = BuildMime(m);
  EXPECT_TRUE(r.ok());
  return *r;
}

const Timestamp kNow = FromMicros(1795428907LL * 1000000);

TEST(DkimCanonicalTest, Rfc6376Example) {
  // RFC 6376 section 3.4.6.
  const std::string message = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
  SplitMessage split = SplitHeaders(message);
  ASSERT_EQ(split.headers.size(), 2u);
  std::string h;
  for (const auto& f : split.headers) AppendRelaxedHeader(h, f.raw);
  EXPECT_EQ(h, "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(RelaxedBody(split.body), " C\r\nD E\r\n");
  EXPECT_EQ(RelaxedBody(""), "");
  EXPECT_EQ(RelaxedBody("\r\n\r\n"), "");
  EXPECT_EQ(RelaxedBody("no newline"), "no newline\r\n");
}

// RFC 6376 section 3.4.4 written the plain way: each line rewritten character by character.
std::string ReferenceRelaxedBody(std::string_view body) {
  std::string out;
  size_t pending_empty = 0;
  size_t i = 0;
  while (i < body.size()) {
    size_t end = body.find("\r\n", i);
    const size_t next = end == std::string_view::npos ? body.size() : end + 2;
    if (end == std::string_view::npos) end = body.size();
    std::string line;
    bool in_wsp = false;
    for (size_t k = i; k < end; ++k) {
      if (body[k] == ' ' || body[k] == '\t') {
        in_wsp = true;
        continue;
      }
      if (in_wsp) line.push_back(' ');
      in_wsp = false;
      line.push_back(body[k]);
    }
    if (line.empty()) {
      ++pending_empty;
    } else {
      for (; pending_empty > 0; --pending_empty) out += "\r\n";
      out += line + "\r\n";
    }
    i = next;
  }
  return out;
}

TEST(DkimCanonicalTest, RelaxedBodyEqualsTheLineByLineRewriteOnRandomBodies) {
  // The canonicalizer passes canonical lines through as spans of the body; every mix of
  // canonical lines, WSP runs, tabs, trailing WSP, empty and WSP-only lines, lone CR and LF
  // must give what rewriting each line gives.
  const std::string_view pieces[] = {"a",    "bc",   " ",  "  ", "\t", "\r\n",
                                     "\r\n", "\r\n", "\r", "\n", ".",  " x"};
  std::mt19937 rng(6376);
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    const int len = static_cast<int>(rng() % 40);
    for (int k = 0; k < len; ++k) body += pieces[rng() % std::size(pieces)];
    ASSERT_EQ(RelaxedBody(body), ReferenceRelaxedBody(body)) << testing::PrintToString(body);
  }
  // Mostly canonical bodies (the whole-body fast path), with now and then one piece that makes
  // a line need rewriting, anywhere across the 8-byte words the fast path reads.
  const std::string_view plain[] = {"a", "bc", " x", "\r\n", "\r\n", "\r", "\n", ".", "word "};
  const std::string_view odd[] = {" ", "  ", "\t", " \r\n", "\r\n "};
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    const int len = static_cast<int>(rng() % 60);
    for (int k = 0; k < len; ++k) {
      body += rng() % 50 == 0 ? odd[rng() % std::size(odd)] : plain[rng() % std::size(plain)];
    }
    if (rng() % 2) body += "\r\n";
    ASSERT_EQ(RelaxedBody(body), ReferenceRelaxedBody(body)) << testing::PrintToString(body);
  }
  // Many lines per span, and the spans' joins.
  std::string big;
  for (int k = 0; k < 200; ++k) big += k % 17 == 0 ? "odd  line \r\n\r\n" : "plain line\r\n";
  big += "\r\n \r\n";
  EXPECT_EQ(RelaxedBody(big), ReferenceRelaxedBody(big));
}

TEST(DkimTest, RsaSignatureVerifiesWithPythonDkim) {
  DkimSigner signer({RsaKey()});
  auto signed_msg = signer.Sign(SampleMessage(), kNow);
  ASSERT_TRUE(signed_msg.ok()) << signed_msg.error().message;
  EXPECT_EQ(signed_msg->rfind("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;", 0), 0u);
  EXPECT_NE(signed_msg->find("t=1795428907;"), std::string::npos);
  EXPECT_NE(signed_msg->find("list-unsubscribe-post"), std::string::npos);
  // Every line within 998 octets, CRLF only.
  for (size_t pos = 0, next; pos < signed_msg->size(); pos = next + 2) {
    next = signed_msg->find("\r\n", pos);
    ASSERT_NE(next, std::string::npos);
    EXPECT_LE(next - pos, 998u);
  }
  EXPECT_EQ(Verify(*signed_msg, {&RsaKey()}, 1), 0) << *signed_msg;
}

TEST(DkimTest, Ed25519SignatureVerifiesWithPythonDkim) {
  DkimSigner signer({EdKey()});
  auto signed_msg = signer.Sign(SampleMessage(MessageClass::kTransactional), kNow);
  ASSERT_TRUE(signed_msg.ok());
  EXPECT_EQ(signed_msg->rfind("DKIM-Signature: v=1; a=ed25519-sha256;", 0), 0u);
  EXPECT_EQ(Verify(*signed_msg, {&EdKey()}, 1), 0) << *signed_msg;
}

TEST(DkimTest, DualSignatureBothVerify) {
  DkimSigner signer({RsaKey(), EdKey()});
  auto signed_msg = signer.Sign(SampleMessage(), kNow);
  ASSERT_TRUE(signed_msg.ok());
  EXPECT_EQ(Verify(*signed_msg, {&RsaKey(), &EdKey()}, 2), 0) << *signed_msg;
}

TEST(DkimTest, TamperedMessagesFail) {
  DkimSigner signer({RsaKey(), EdKey()});
  auto signed_msg = signer.Sign(SampleMessage(), kNow);
  ASSERT_TRUE(signed_msg.ok());
  // The body changed.
  std::string body_changed = *signed_msg;
  size_t pos = body_changed.find("Bonjour Ada");
  ASSERT_NE(pos, std::string::npos);
  body_changed.replace(pos, 7, "Bonsoir");
  EXPECT_EQ(Verify(body_changed, {&RsaKey(), &EdKey()}, 2), 1);
  // A signed header changed.
  std::string to_changed = *signed_msg;
  pos = to_changed.find("ada@example.org");
  ASSERT_NE(pos, std::string::npos);
  to_changed.replace(pos, 3, "eve");
  EXPECT_EQ(Verify(to_changed, {&RsaKey(), &EdKey()}, 2), 1);
  // A second From added in transit (over-signing catches it).
  std::string extra_from = "From: Mallory <mallory@example.net>\r\n" + *signed_msg;
  EXPECT_EQ(Verify(extra_from, {&RsaKey(), &EdKey()}, 2), 1);
  // Signed by a different key than the one published.
  auto other_pem = GenerateDkimKeyPem(DkimAlgorithm::kEd25519Sha256);
  auto other = DkimKeyFromPem("example.com", "ed2026", *other_pem, DkimAlgorithm::kEd25519Sha256);
  ASSERT_TRUE(other.ok());
  auto wrong = DkimSigner({*other}).Sign(SampleMessage(), kNow);
  EXPECT_EQ(Verify(*wrong, {&EdKey()}, 1), 1);
}

TEST(DkimTest, RelaxedSurvivesWhitespaceAndCaseChanges) {
  DkimSigner signer({RsaKey()});
  auto signed_msg = signer.Sign(SampleMessage(MessageClass::kTransactional), kNow);
  ASSERT_TRUE(signed_msg.ok());
  std::string changed = *signed_msg;
  size_t pos = changed.find("\r\nSubject:");
  changed.replace(pos, 10, "\r\nSUBJECT:  ");
  pos = changed.find("Bonjour Ada,");
  changed.replace(pos, 12, "Bonjour   Ada,  ");
  EXPECT_EQ(Verify(changed, {&RsaKey()}, 1), 0) << changed;
}

TEST(DkimTest, SignsConcurrently) {
  DkimSigner signer({RsaKey(), EdKey()});
  const std::string message = SampleMessage();
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto r = signer.Sign(message, kNow);
        if (r.ok()) results[t] = *r;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& r : results) EXPECT_EQ(Verify(r, {&RsaKey(), &EdKey()}, 2), 0);
}

TEST(DkimTest, LoadDkimKeyFromFileAndErrors) {
  TempDir dir;
  auto pem = GenerateDkimKeyPem(DkimAlgorithm::kEd25519Sha256);
  ASSERT_TRUE(pem.ok());
  WriteFile(dir.File("ed.pem"), *pem);
  auto key = LoadDkimKey("example.com", "ed", dir.File("ed.pem"), DkimAlgorithm::kEd25519Sha256);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->selector(), "ed");

  auto missing = LoadDkimKey("example.com", "ed", dir.File("nope.pem"), DkimAlgorithm::kEd25519Sha256);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "key_file");
  auto mismatch = LoadDkimKey("example.com", "ed", dir.File("ed.pem"), DkimAlgorithm::kRsaSha256);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("RSA"), std::string::npos);
  WriteFile(dir.File("junk.pem"), "not a key");
  EXPECT_FALSE(LoadDkimKey("example.com", "ed", dir.File("junk.pem"), DkimAlgorithm::kEd25519Sha256).ok());
  auto bad_selector = LoadDkimKey("example.com", "s;x=1", dir.File("ed.pem"), DkimAlgorithm::kEd25519Sha256);
  ASSERT_FALSE(bad_selector.ok());
  EXPECT_EQ(bad_selector.error().field, "selector");

  // An encrypted key is refused (no prompt for a passphrase).
  {
    EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(b, ed, EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>("secret"));
    char* p = nullptr;
    long l = BIO_get_mem_data(b, &p);
    auto enc = DkimKeyFromPem("example.com", "ed", std::string_view(p, l), DkimAlgorithm::kEd25519Sha256);
    BIO_free(b);
    EVP_PKEY_free(ed);
    ASSERT_FALSE(enc.ok());
    EXPECT_EQ(enc.error().field, "key_file");
  }
  // A 1024-bit RSA key is refused.
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  ASSERT_NE(small, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, small, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  auto weak = DkimKeyFromPem("example.com", "old", std::string_view(data, len), DkimAlgorithm::kRsaSha256);
  BIO_free(bio);
  EVP_PKEY_free(small);
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().message.find("2048"), std::string::npos);
}

TEST(DkimTest, DnsRecordSplitsInto255CharStrings) {
  auto rec = DkimDnsRecord(RsaKey());
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->rfind("rsa2026._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=", 0), 0u) << *rec;
  // Each quoted string is at most 255 characters; joined they give the TXT value.
  std::string joined;
  size_t pos = 0;
  int strings = 0;
  while ((pos = rec->find('"', pos)) != std::string::npos) {
    size_t end = rec->find('"', pos + 1);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - pos - 1, 255u);
    joined += rec->substr(pos + 1, end - pos - 1);
    pos = end + 1;
    ++strings;
  }
  EXPECT_GE(strings, 2);  // an RSA-2048 key is ~400 characters
  EXPECT_EQ(joined, *DkimTxtValue(RsaKey()));
  auto ed = DkimTxtValue(EdKey());
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->rfind("v=DKIM1; k=ed25519; p=", 0), 0u);
  EXPECT_EQ(ed->size(), std::string("v=DKIM1; k=ed25519; p=").size() + 44);
}

TEST(DkimTest, MessageWithoutFromIsRefused) {
  DkimSigner signer({EdKey()});
  auto r = signer.Sign("Subject: x\r\n\r\nbody\r\n", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace rapport::mail
